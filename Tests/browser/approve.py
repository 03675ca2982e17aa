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
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

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
        # The page's own style must load under its CSP: the rendered font is not the browser default.
        "styled": driver.find_element(By.TAG_NAME, "body").value_of_css_property("max-width"),
        "console": [entry["message"] for entry in driver.get_log("browser")],
    }
    for name, value in secrets.items():
        driver.find_element(By.NAME, f"secrets[{name}]").send_keys(value)
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, f"button[name=decision][value={decision}]").click()
    WebDriverWait(driver, 20).until(expected_conditions.staleness_of(page))  # the form's reply has loaded
    after = {"heading": driver.find_element(By.TAG_NAME, "h1").text, "text": driver.find_element(By.TAG_NAME, "body").text}
    print(json.dumps({"before": before, "after": after}))
finally:
    driver.quit()
