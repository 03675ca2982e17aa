import Crypto
import Foundation

/// The one script the daemon's pages run: WebAuthn ceremonies for the approval, signup and claim pages.
/// It is inline and allowed by its SHA-256 in the pages' CSP (`script-src 'sha256-…'`), talks only to
/// this origin (`connect-src 'self'`), and finds its work through element ids and `data-` attributes,
/// so no handler is written into markup and nothing from a request is ever script.
enum PasskeyScript {
    static let source = #"""
"use strict";
const b64u = {
  enc: (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
  dec: (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4)), (c) => c.charCodeAt(0)),
};
function show(text, isError) {
  const out = document.getElementById("outcome");
  out.textContent = text;
  out.className = isError ? "error" : "status";
}
async function post(path, body, key) {
  const headers = { "Content-Type": "application/json", "Accept": "application/json" };
  if (key) headers["Authorization"] = "Bearer " + key;
  const reply = await fetch(path, { method: "POST", headers, body: JSON.stringify(body) });
  const data = await reply.json().catch(() => ({}));
  if (!reply.ok) throw new Error(data.error || "HTTP " + reply.status);
  return data;
}
async function assertWith(options) {
  const credential = await navigator.credentials.get({ publicKey: {
    challenge: b64u.dec(options.challenge), rpId: options.rp_id, timeout: options.timeout_ms, userVerification: "required",
    allowCredentials: options.allow_credentials.map((id) => ({ type: "public-key", id: b64u.dec(id) })) } });
  return { nonce: options.nonce, credential_id: b64u.enc(credential.rawId), authenticator_data: b64u.enc(credential.response.authenticatorData),
    client_data_json: b64u.enc(credential.response.clientDataJSON), signature: b64u.enc(credential.response.signature) };
}
async function createWith(options) {
  const credential = await navigator.credentials.create({ publicKey: {
    challenge: b64u.dec(options.challenge), rp: { id: options.rp_id, name: "OAuth3 Enclave" },
    user: { id: b64u.dec(options.user_id), name: options.user_name, displayName: options.user_name },
    pubKeyCredParams: [{ type: "public-key", alg: -7 }, { type: "public-key", alg: -8 }],
    excludeCredentials: options.allow_credentials.map((id) => ({ type: "public-key", id: b64u.dec(id) })),
    authenticatorSelection: { userVerification: "required", residentKey: "preferred" }, attestation: "none", timeout: options.timeout_ms } });
  return { nonce: options.nonce, credential_id: b64u.enc(credential.rawId), attestation_object: b64u.enc(credential.response.attestationObject),
    client_data_json: b64u.enc(credential.response.clientDataJSON) };
}
function typedSecrets(form) {
  const out = {};
  form.querySelectorAll("input[data-secret]").forEach((input) => { if (input.value) out[input.dataset.secret] = input.value; });
  return out;
}
function scopeOptions(form) {
  const any = form.querySelector("input[name=any_code]"), minutes = form.querySelector("input[name=expires_in_minutes]");
  const runs = form.querySelector("input[name=max_runs]"), out = {};
  if (any && any.checked) out.any_code = true;
  if (minutes && minutes.value) out.expires_in_minutes = parseInt(minutes.value, 10);
  if (runs && runs.value) out.max_runs = parseInt(runs.value, 10);
  return out;
}
const decide = document.getElementById("passkey-decision");
if (decide) decide.querySelectorAll("button[data-action]").forEach((button) => button.addEventListener("click", async (event) => {
  event.preventDefault();
  try {
    const id = decide.dataset.request, token = decide.dataset.token, secrets = typedSecrets(decide), options = scopeOptions(decide);
    const decision = { token, action: button.dataset.action, level: button.dataset.level, options };
    const challenge = await post("/approve/" + id + "/challenge", { ...decision, supplied_secrets: Object.keys(secrets).sort() });
    const passkey = await assertWith(challenge);
    const outcome = await post("/approve/" + id, { ...decision, secrets, passkey });
    decide.hidden = true;
    show("Decision recorded: " + outcome.status + (outcome.message ? ". " + outcome.message : ""));
  } catch (error) { show("Refused: " + error.message, true); }
}));
const signup = document.getElementById("signup");
if (signup) signup.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const name = signup.querySelector("input[name=name]").value;
    const enrolment = await createWith(await post("/signup/passkey/challenge", { name }));
    const account = await post("/signup/passkey", { ...enrolment, name });
    document.getElementById("tenant-id").textContent = account.tenant_id;
    document.getElementById("api-key").textContent = account.api_key;
    document.getElementById("account").hidden = false;
    signup.hidden = true;
    show("Account created; your passkey is its approver.");
  } catch (error) { show("Refused: " + error.message, true); }
});
const claim = document.getElementById("claim");
if (claim) claim.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const key = claim.querySelector("input[name=api_key]").value, name = claim.querySelector("input[name=name]").value;
    const challenge = await post("/approvers/challenge", { name }, key);
    const enrolment = await createWith(challenge);
    let passkey;
    if (challenge.allow_credentials.length > 0) {
      passkey = await assertWith(await post("/account/challenge", { purpose: "enrol_approver", subject: enrolment.credential_id }, key));
    }
    const approver = await post("/approvers", { ...enrolment, name, passkey }, key);
    claim.hidden = true;
    show("Passkey enrolled: approver " + approver.name + " (" + approver.credential_id + ")");
  } catch (error) { show("Refused: " + error.message, true); }
});
"""#

    /// The CSP source expression allowing exactly this script.
    static var hashSource: String { "'sha256-\(Data(SHA256.hash(data: Data(source.utf8))).base64EncodedString())'" }
}
