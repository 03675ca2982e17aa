// @skill hello
// @description Greets, and shows that it can read its one declared secret without printing it
// @secrets GREETING_TOKEN
// @timeout 10
const token = Deno.env.get("GREETING_TOKEN") ?? "";
console.log(`Hello from Deno ${Deno.version.deno} in the OAuth3 sandbox!`);
console.log(`My token is ${token} (${token.length} characters): the sandbox redacts it.`);
console.log(`A variable nobody declared reads as absent: AWS_SECRET_ACCESS_KEY is ${Deno.env.get("AWS_SECRET_ACCESS_KEY")}`);
