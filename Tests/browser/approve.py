"""Opens an approval page in headless Chromium (Debian's chromium + chromedriver), fills in the
missing secrets it asks for, presses a decision button, and prints what the browser then shows.

    python3 approve.py URL DECISION [SECRET_NAME=VALUE ...]

Prints a JSON object: the page's title and CSP-relevant facts before, and the text after submitting.
Used by the Swift test `BrowserApprovalTests`; it makes no decision of its own about pass or fail.
"""
import json
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait



def replaced(element):
    """True once `element`'s document is gone. Selenium's staleness_of expects a stale-element error only;
    Chromium 156 sometimes answers "Node with given id does not belong to the document" instead while the
    form's reply replaces the page, which staleness_of let through as a failure."""
    def predicate(_driver):
        try:
            element.is_enabled()
            return False
        except WebDriverException:
            return True
    return predicate


url, decision, *pairs = sys.argv[1:]
secrets = dict(pair.split("=", 1) for pair in pairs)

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
profile = tempfile.mkdtemp(prefix="oauth3-browser-")  # one profile per run: Chromium locks its profile
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--user-data-dir={profile}"):
    options.add_argument(flag)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    driver.set_page_load_timeout(30)
    driver.get(url)
    before = {
        "title": driver.title,
        "heading": driver.find_element(By.TAG_NAME, "h1").text,
        "code": driver.find_element(By.CSS_SELECTOR, "pre code").text if driver.find_elements(By.CSS_SELECTOR, "pre code") else None,
        "buttons": [b.get_attribute("value") for b in driver.find_elements(By.CSS_SELECTOR, "button[name=decision]")],
        "secret_fields": [i.get_attribute("name") for i in driver.find_elements(By.CSS_SELECTOR, "input[type=password]")],
        # Fields the browser will not let "approve" submit empty.
        "required_fields": [i.get_attribute("name") for i in driver.find_elements(By.CSS_SELECTOR, "input[required]")],
        # The page's own style must load under its CSP: the rendered font is not the browser default.
        "styled": driver.find_element(By.TAG_NAME, "body").value_of_css_property("max-width"),
        "console": [entry["message"] for entry in driver.get_log("browser")],
    }
    for name, value in secrets.items():
        driver.find_element(By.NAME, f"secrets[{name}]").send_keys(value)
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, f"button[name=decision][value={decision}]").click()
    WebDriverWait(driver, 20).until(replaced(page))
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script("return document.readyState") == "complete" and d.find_elements(By.TAG_NAME, "h1"))
    after = {"heading": driver.find_element(By.TAG_NAME, "h1").text, "text": driver.find_element(By.TAG_NAME, "body").text}
    print(json.dumps({"before": before, "after": after}))
finally:
    driver.quit()
