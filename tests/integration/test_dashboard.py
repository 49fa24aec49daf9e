"""The dashboard (issue 14 item 6): server-rendered pages behind a sign-in, driven by Debian's
headless Chromium through selenium.

A browser signs in with a token on /login, uploads one series through the upload page's file input
(STOW-RS with the session cookie), waits for the page's link to the finished analysis, then sees
the series' row and risk on the worklist and, on the series page, the level table and the key image
decoded as an embedded PNG. Deliveries to a destination that never listens die; an admin sees
resend buttons (and one works), a viewer does not. Unauthenticated pages redirect to /login; the
session cookie's attributes and the CSRF check hold. Screenshots of the upload page, the worklist
and the series page are kept (``$LSTV_TEST_ARTIFACTS``).
"""
from __future__ import annotations

import re

import requests

import nodeproc
import pacs
from browser import browser, keep_artefact  # noqa: F401 (browser: a fixture)

WAIT = 300  # seconds for the upload and the analysis of one series on a busy machine


def detached(element) -> bool:
    """Whether a page element is gone with its page (a new page was loaded)."""
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        element.is_enabled()
        return False
    except StaleElementReferenceException:
        return True


def wait_for(driver, condition, what: str, timeout: float = 60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition, message=what)


def sign_in(browser, node, token: str) -> None:
    from selenium.webdriver.common.by import By

    browser.driver.delete_all_cookies()
    browser.open(node.http_url + "/login")
    browser.driver.find_element(By.NAME, "token").send_keys(token)
    browser.driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
    wait_for(browser.driver, lambda d: d.current_url == node.http_url + "/", "the worklist after signing in")


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]{64})"', html).group(1)


def test_pages_need_a_sign_in_and_sessions_carry_csrf(node_factory):
    node = node_factory()
    for path in ("/", "/series/1.2.3", "/outbox", "/upload", "/report"):
        r = requests.get(node.http_url + path, allow_redirects=False, timeout=30)
        assert r.status_code == 303 and r.headers["Location"] == "/login", (path, r.status_code)
    assert requests.get(node.http_url + "/api/v1/flags", timeout=30).status_code == 401
    assert requests.get(node.http_url + "/login", timeout=30).status_code == 200

    bad = requests.post(node.http_url + "/login", data={"token": "lstv_wrong"}, allow_redirects=False, timeout=30)
    assert bad.status_code == 401 and "This token is not known." in bad.text

    s = requests.Session()
    r = s.post(node.http_url + "/login", data={"token": node.admin_token()}, allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    cookie = r.headers["Set-Cookie"]
    assert re.match(r"lstv_session=[0-9a-f]{64}; ", cookie), cookie
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/"):
        assert attribute in cookie, cookie
    page = s.get(node.http_url + "/", timeout=30)
    assert page.status_code == 200 and "Analysed series" in page.text
    assert s.get(node.http_url + "/api/v1/flags", timeout=30).status_code == 200, "the API takes the session"
    assert s.get(node.http_url + "/series/not-a-uid", timeout=30).status_code == 400
    assert s.get(node.http_url + "/series/1.2.3", timeout=30).status_code == 404
    assert s.get(node.http_url + "/?risk=severe", timeout=30).status_code == 400
    report = s.get(node.http_url + "/report", timeout=30)
    assert report.status_code == 200 and "LSTV cohort report" in report.text

    # A POST without the session's CSRF token is refused, and so is STOW-RS without its header.
    assert s.post(node.http_url + "/logout", allow_redirects=False, timeout=30).status_code == 403
    assert s.post(node.http_url + "/dicomweb/studies", data=b"x", timeout=30,
                  headers={"Content-Type": "multipart/related; type=\"application/dicom\"; boundary=b"}).status_code == 403
    out = s.post(node.http_url + "/logout", data={"csrf": csrf_of(page.text)}, allow_redirects=False, timeout=30)
    assert out.status_code == 303 and out.headers["Location"] == "/login"
    assert s.get(node.http_url + "/", allow_redirects=False, timeout=30).status_code == 303, "the session ended"
    # Bearer tokens work for pages too.
    bearer = requests.get(node.http_url + "/outbox", headers={"Authorization": f"Bearer {node.admin_token()}"}, timeout=30)
    assert bearer.status_code == 200 and "Outbox" in bearer.text


def test_upload_worklist_and_series_page_in_a_browser(node_factory, lumbar, browser, tmp_path):
    from selenium.webdriver.common.by import By

    node, viewer, admin = pacs.node_with_dead_destination(node_factory, tmp_path)
    files = nodeproc.dicom_files(lumbar[0].sagittal)
    _, series = nodeproc.series_uids(lumbar[0].sagittal)

    browser.open(node.http_url + "/")
    assert browser.driver.current_url == node.http_url + "/login", "unauthenticated: to the sign-in page"
    sign_in(browser, node, admin)

    browser.open(node.http_url + "/upload")
    browser.driver.find_element(By.ID, "files").send_keys("\n".join(str(f) for f in files))
    link = wait_for(browser.driver, lambda d: d.find_elements(By.ID, "analysis-link"), "the analysis link", WAIT)[0]
    assert link.get_attribute("href") == f"{node.http_url}/series/{series}"
    assert browser.driver.find_element(By.ID, "summary").text == f"{len(files)} stored, 0 failed"
    assert len(browser.driver.find_elements(By.CSS_SELECTOR, "#results td.stored")) == len(files)
    keep_artefact(browser.screenshot(tmp_path / "dashboard-upload.png"))

    pacs.wait_outbox(node, lambda rows: len(rows) == pacs.PER_ANALYSIS and all(r["state"] == "dead" for r in rows), 120,
                     "every delivery dead")
    browser.open(node.http_url + "/")
    row = browser.driver.find_element(By.CSS_SELECTOR, f"#worklist tr[data-series='{series}']")
    risk = row.find_element(By.CSS_SELECTOR, "td.risk").text
    assert risk in ("low", "medium", "high")
    assert f"{pacs.PER_ANALYSIS} dead" in row.text
    keep_artefact(browser.screenshot(tmp_path / "dashboard-worklist.png"))

    row.find_element(By.LINK_TEXT, "series").click()
    wait_for(browser.driver, lambda d: d.current_url == f"{node.http_url}/series/{series}", "the series page")
    image = browser.driver.find_element(By.ID, "key-image")
    assert image.get_attribute("src").startswith("data:image/png;base64,")
    wait_for(browser.driver, lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) > 0,
             "the key image decoded")
    levels = browser.driver.find_elements(By.CSS_SELECTOR, "#levels tr")
    assert [r.find_elements(By.TAG_NAME, "td")[0].text for r in levels[1:]] == ["L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"]
    assert browser.driver.find_element(By.ID, "risk").text.strip() == risk
    buttons = browser.driver.find_elements(By.CSS_SELECTOR, "#deliveries form.retry button")
    assert len(buttons) == pacs.PER_ANALYSIS, "an admin gets a resend button per dead delivery"
    keep_artefact(browser.screenshot(tmp_path / "dashboard-series.png"))

    resend = buttons[0]
    resend.click()
    # The page was the series page before the click too: wait for the old one to go (its button
    # detached), then for the new one, then for the node's record of the resend.
    wait_for(browser.driver, lambda d: detached(resend), "the page left after the resend button")
    wait_for(browser.driver, lambda d: d.current_url == f"{node.http_url}/series/{series}"
             and d.execute_script("return document.readyState") == "complete", "back on the series page after resending")
    wait_for(browser.driver, lambda d: "delivery retried from the dashboard" in node.log_path.read_text(),
             "the resend reaching Pipeline.retry (the node's log)")

    sign_in(browser, node, viewer)
    browser.open(f"{node.http_url}/series/{series}")
    assert browser.driver.find_elements(By.ID, "levels"), "a viewer sees the series page"
    assert not browser.driver.find_elements(By.CSS_SELECTOR, "form.retry"), "a viewer gets no resend buttons"
    browser.open(f"{node.http_url}/outbox")
    assert browser.driver.find_elements(By.ID, "outbox") and not browser.driver.find_elements(By.CSS_SELECTOR, "form.retry")
    cookie = browser.driver.get_cookie("lstv_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    session = requests.Session()
    session.cookies.set("lstv_session", cookie["value"])
    page = session.get(f"{node.http_url}/outbox", timeout=30)
    row_id = pacs.outbox(node)[0]["id"]
    refused = session.post(f"{node.http_url}/deliveries/{row_id}/retry", data={"csrf": csrf_of(page.text)},
                           allow_redirects=False, timeout=30)
    assert refused.status_code == 403, "a viewer cannot resend"
