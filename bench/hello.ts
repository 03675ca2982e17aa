// @skill hello-bench
// @description The benchmark's hello world: startup cost only
console.log("hello");
