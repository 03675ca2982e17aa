"""Consent end to end in headless Chromium with a WebDriver (CDP) virtual authenticator: a person signs up
in the browser with a passkey, an agent (plain HTTP here, holding only its API key and approval links)
submits and tries to decide for itself, the person decides on the approval page with the passkey, and
scopes bind code. Prints a JSON report of what happened; the Swift test `ConsentBrowserTests` decides
pass or fail.

    python3 consent.py BASE_URL OUTPUT_DIR

BASE_URL must be the daemon's origin as WebAuthn sees it (http://localhost:PORT).
"""
import json
import sys
import tempfile
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, out_dir = sys.argv[1].rstrip("/"), sys.argv[2]
report = {}


def http(method, path, body=None, key=None):
    """One API call as the agent makes it; returns (status, JSON body)."""
    request = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", "Bearer " + key)
    try:
        with urllib.request.urlopen(request, timeout=90) as reply:
            return reply.status, json.loads(reply.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def local(url):
    """Approval links name the daemon's configured address; the page must be opened on the RP's origin."""
    return base + url[url.index("/approve/"):]


def token(url):
    return url.split("token=")[-1]


def poll(request_id, key):
    while True:
        status, body = http("GET", f"/execute/{request_id}/status?wait=true&timeout=60", key=key)
        if body.get("status") in ("completed", "failed", "denied", "awaiting_secrets", "pending", "pending_scope"):
            return body


options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--user-data-dir={tempfile.mkdtemp(prefix='oauth3-consent-')}"):
    options.add_argument(flag)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 30)


def outcome():
    wait.until(lambda d: d.find_element(By.ID, "outcome").text.strip())
    return driver.find_element(By.ID, "outcome").text


def open_page(url):
    driver.get(url)
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def assertion_for(request_id, approval_token, level, options=None):
    """Has the person's passkey sign a decision in the page, without sending it: what a thief would replay."""
    return driver.execute_async_script("""
        const [id, token, level, options, done] = arguments;
        (async () => {
          const reply = await fetch("/approve/" + id + "/challenge", {method: "POST", headers: {"Content-Type": "application/json"},
            body: JSON.stringify({token, action: "approve", level, supplied_secrets: [], options})});
          const challenge = await reply.json();
          done(await assertWith(challenge));
        })().catch((error) => done({error: String(error)}));
    """, request_id, approval_token, level, options or {})


SKILL = "// @skill consent-demo\n// @description Prints its argument\nconsole.log('repo is', Deno.env.get('REPO'))\n"
OTHER = "// @skill consent-other\nconsole.log('other code')\n"
try:
    driver.execute_cdp_cmd("WebAuthn.enable", {"enableUI": False})
    driver.execute_cdp_cmd("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})

    # 1. Browser signup: name + passkey, then the agent key.
    open_page(base + "/signup")
    driver.find_element(By.NAME, "name").send_keys("Alice Approver")
    driver.find_element(By.CSS_SELECTOR, "#signup button").click()
    report["signup_outcome"] = outcome()
    key = driver.find_element(By.ID, "api-key").text
    tenant = driver.find_element(By.ID, "tenant-id").text
    report["tenant_id"] = tenant
    report["key_shown"] = key.startswith("oauth3_")
    report["approvers"] = http("GET", "/approvers", key=key)[1]

    # 2. The agent submits with its key.
    status, job = http("POST", "/execute", {"skill_code": SKILL, "args": {"REPO": "my-org/demo"}}, key=key)
    report["submit"] = {"status": status, "job_status": job.get("status")}
    link = job["approval_url"]

    # 3. The agent, holding the token, tries to decide.
    refusals = {}
    for name, body in (("approve", {"token": token(link), "action": "approve"}),
                       ("trust", {"token": token(link), "action": "approve", "level": "trust_code"}),
                       ("deny", {"token": token(link), "action": "deny"})):
        refusals[name] = http("POST", f"/approve/{job['request_id']}", body)
    status, scope = http("POST", "/scope", {"description": "demo scope", "constraints": [], "secrets": [], "networks": [], "skill_code": SKILL}, key=key)
    refusals["scope"] = http("POST", f"/approve/{scope['request_id']}", {"token": token(scope["approval_url"]), "action": "approve"})
    refusals["enrol"] = http("POST", "/approvers", {"nonce": "00", "attestation_object": "AA", "client_data_json": "AA"}, key=key)
    refusals["untrust"] = http("DELETE", "/trusted/" + "ab" * 32, key=key)
    refusals["replace_key"] = http("POST", "/account/agent-key", {}, key=key)
    refusals["put_secret"] = http("PUT", "/secrets/GH_TOKEN", {"value": "the agent's own"}, key=key)
    report["agent_refusals"] = {name: {"status": s, "error": b.get("error")} for name, (s, b) in refusals.items()}
    report["still_pending"] = http("GET", f"/execute/{job['request_id']}/status", key=key)[1]["status"]

    # 4. What the page shows.
    open_page(local(link))
    report["page_text"] = driver.find_element(By.TAG_NAME, "body").text
    report["page_buttons"] = [b.text for b in driver.find_elements(By.CSS_SELECTOR, "button[data-action]")]
    driver.save_screenshot(out_dir + "/approval-page.png")

    # 5. Replays: an assertion made for this request replayed for another; one made for `once` sent as trust_code.
    status, second = http("POST", "/execute", {"skill_code": SKILL, "args": {"REPO": "my-org/other"}}, key=key)
    stolen = assertion_for(job["request_id"], token(link), "once")
    report["replay_other_request"] = http("POST", f"/approve/{second['request_id']}", {
        "token": token(second["approval_url"]), "action": "approve", "level": "once", "passkey": stolen})
    stolen = assertion_for(job["request_id"], token(link), "once")
    report["replay_as_trust_code"] = http("POST", f"/approve/{job['request_id']}", {
        "token": token(link), "action": "approve", "level": "trust_code", "passkey": stolen})
    stolen = assertion_for(job["request_id"], token(link), "once")
    report["replay_other_args"] = http("POST", f"/approve/{second['request_id']}", {
        "token": token(second["approval_url"]), "action": "approve", "level": "once", "passkey": stolen})

    # 6. The person approves with the passkey; the result carries the consent.
    open_page(local(link))
    driver.find_element(By.CSS_SELECTOR, "button[data-action=approve][data-level=once]").click()
    report["approve_outcome"] = outcome()
    done = poll(job["request_id"], key)
    report["result"] = done
    with open(out_dir + "/passkey-status.json", "w") as file:
        json.dump(done, file)

    # 7. A scope approves the code shown with it; other code waits; "any code" (recorded) lets it run.
    open_page(local(scope["approval_url"]))
    driver.find_element(By.NAME, "max_runs").send_keys("2")
    driver.find_element(By.NAME, "expires_in_minutes").send_keys("60")
    driver.find_element(By.CSS_SELECTOR, "button[data-action=approve]").click()
    report["scope_outcome"] = outcome()
    session = scope["session_id"]
    runs = {}
    status, runs["shown"] = http("POST", "/execute", {"skill_code": SKILL, "session_id": session, "args": {"REPO": "in-session"}}, key=key)
    status, runs["other"] = http("POST", "/execute", {"skill_code": OTHER, "session_id": session}, key=key)
    status, runs["shown_again"] = http("POST", "/execute", {"skill_code": SKILL, "session_id": session, "args": {"REPO": "again"}}, key=key)
    status, runs["past_max_runs"] = http("POST", "/execute", {"skill_code": SKILL, "session_id": session, "args": {"REPO": "third"}}, key=key)
    report["session_runs"] = {name: {k: run.get(k) for k in ("status", "approved_by", "policy_violations", "request_id")} for name, run in runs.items()}
    report["session_shown_result"] = poll(runs["shown"]["request_id"], key)
    report["session"] = http("GET", f"/sessions/{session}", key=key)[1]

    status, wide = http("POST", "/scope", {"description": "any code", "constraints": [], "secrets": [], "networks": []}, key=key)
    open_page(local(wide["approval_url"]))
    report["any_code_warning"] = driver.find_element(By.CSS_SELECTOR, ".warning").text
    driver.find_element(By.NAME, "any_code").click()
    driver.find_element(By.CSS_SELECTOR, "button[data-action=approve]").click()
    report["any_code_outcome"] = outcome()
    status, anything = http("POST", "/execute", {"skill_code": OTHER, "session_id": wide["session_id"]}, key=key)
    report["any_code_run"] = {k: anything.get(k) for k in ("status", "approved_by", "policy_violations")}
    report["any_code_result"] = poll(anything["request_id"], key)
    with open(out_dir + "/session-status.json", "w") as file:
        json.dump(report["any_code_result"], file)

    # 8. The owner replaces the agent key with the passkey: the old key stops working.
    new_key = driver.execute_async_script("""
        const [tenant, key, done] = arguments;
        (async () => {
          const challenge = await post("/account/challenge", {purpose: "replace_agent_key", subject: tenant}, key);
          done((await post("/account/agent-key", {passkey: await assertWith(challenge)}, key)).api_key);
        })().catch((error) => done("error: " + error));
    """, tenant, key)
    report["replaced_key"] = {"new_works": http("GET", "/me", key=new_key)[0], "old_works": http("GET", "/me", key=key)[0]}
    # 9. An account made by the SDK is claimed at /claim with its key (trust on first use); then its token cannot decide.
    status, sdk = http("POST", "/signup", {"name": "sdk-made"})
    open_page(base + "/claim")
    report["claim_page"] = driver.find_element(By.TAG_NAME, "body").text
    driver.find_element(By.NAME, "api_key").send_keys(sdk["api_key"])
    driver.find_element(By.NAME, "name").send_keys("Bob Claimer")
    driver.find_element(By.CSS_SELECTOR, "#claim button").click()
    report["claim_outcome"] = outcome()
    status, claimed_job = http("POST", "/execute", {"skill_code": OTHER}, key=sdk["api_key"])
    report["claimed_token_decision"] = http("POST", f"/approve/{claimed_job['request_id']}", {"token": token(claimed_job["approval_url"]), "action": "approve"})
    report["claimed_approvers"] = http("GET", "/approvers", key=sdk["api_key"])[1]
    # 10. The agent cannot revoke its approver; the approver can (with the passkey).
    bob = report["claimed_approvers"]["approvers"][0]["credential_id"]
    report["agent_revoke"] = http("DELETE", f"/approvers/{bob}", key=sdk["api_key"])
    report["owner_revoke"] = driver.execute_async_script("""
        const [credential, key, done] = arguments;
        (async () => {
          const challenge = await post("/account/challenge", {purpose: "revoke_approver", subject: credential}, key);
          const reply = await fetch("/approvers/" + credential, {method: "DELETE", headers: {"Content-Type": "application/json", "Authorization": "Bearer " + key},
            body: JSON.stringify({passkey: await assertWith(challenge)})});
          done(reply.status);
        })().catch((error) => done("error: " + error));
    """, bob, sdk["api_key"])
    report["after_revoke"] = http("GET", "/approvers", key=sdk["api_key"])[1]
    report["console"] = [{"level": entry["level"], "message": entry["message"]} for entry in driver.get_log("browser")]
    print(json.dumps(report))
finally:
    driver.quit()
