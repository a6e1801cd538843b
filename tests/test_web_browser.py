"""The web archive in a real browser: Debian's chromium + chromium-driver, headless, via Selenium.

A clerk's day in one run: sign in, search a word with an umlaut, open the record, see its
page image, correct a type in *Prüfen*, download the PDF, approve a scan the scan station
flagged in *QS* (records staff), sign out. The application runs in
a real uvicorn server on a free local port. On failure a screenshot is saved (its path is in
the failure message; ``AKTE_SCREENSHOT_DIR`` chooses the folder).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from aktenarchiv.qa import QaStatus, qa_status
from aktenarchiv.web.app import create_app
from ci import unavailable
from web_fixtures import PASSWORD, build_archive, ingest_flagged_scans

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1366,768")

pytestmark = pytest.mark.slow


@pytest.fixture
def server(settings, make_text_pdf, tmp_path):
    """The web archive served by uvicorn in a thread; yields (base URL, archive)."""
    web = build_archive(settings, make_text_pdf, tmp_path / "pdfs")
    web.ids.update(ingest_flagged_scans(settings, tmp_path / "scans", keys=("sondernutzung",)))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(web.settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", web
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def browser(tmp_path, request):
    """Headless chromium with downloads going to ``tmp_path/downloads``."""
    if not (CHROMIUM and DRIVER):
        unavailable("chromium and chromium-driver are not installed (bash scripts/setup.sh installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.downloads = downloads
    yield driver
    driver.quit()


def _screenshot_on_failure(driver, tmp_path: Path, name: str) -> str:
    folder = Path(os.environ.get("AKTE_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.png"
    driver.save_screenshot(str(target))
    return str(target)


def test_a_day_in_the_browser(server, browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    base, web = server
    wait = WebDriverWait(browser, 20)
    try:
        browser.get(base + "/")
        wait.until(ready.presence_of_element_located((By.ID, "name"))).send_keys("akten")
        browser.find_element(By.ID, "passwort").send_keys(PASSWORD, Keys.ENTER)
        box = wait.until(ready.presence_of_element_located((By.ID, "q")))
        box.send_keys("Müller", Keys.ENTER)  # with the keyboard only
        wait.until(ready.text_to_be_present_in_element((By.ID, "anzahl"), "1 Treffer"))
        assert browser.find_element(By.CSS_SELECTOR, "mark").text == "Müllerstraße"
        browser.find_element(By.LINK_TEXT, "Bauantrag Müller").click()
        image = wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "#seite-1 img")))
        wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image))
        assert browser.execute_script("return arguments[0].naturalWidth", image) == 1000
        browser.find_element(By.ID, "download").click()
        wait.until(lambda d: [p for p in d.downloads.iterdir() if p.suffix == ".pdf"])
        pdf = next(p for p in browser.downloads.iterdir() if p.suffix == ".pdf")
        assert pdf.read_bytes() == (web.settings.archive_dir / web.record("bauantrag").original_object).read_bytes()
        browser.find_element(By.LINK_TEXT, "Prüfen").click()
        wait.until(ready.text_to_be_present_in_element((By.ID, "offen"), "2 Akte(n)"))
        browser.find_element(By.CSS_SELECTOR, "button.suggested").click()
        wait.until(ready.text_to_be_present_in_element((By.ID, "offen"), "1 Akte(n)"))
        assert web.record("offen").doc_type == "korrespondenz"
        browser.find_element(By.LINK_TEXT, "QS").click()
        wait.until(ready.text_to_be_present_in_element((By.ID, "offen-qs"), "1 Akte(n)"))
        thumb = browser.find_element(By.CSS_SELECTOR, "#qs-seite-1 img")
        wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", thumb))
        assert browser.execute_script("return arguments[0].naturalWidth", thumb) == 240
        assert "Auflösung zu gering" in browser.find_element(By.ID, "qs-seite-1").text
        browser.switch_to.active_element.send_keys("Lesbar", Keys.ENTER)  # the note field has the focus
        wait.until(ready.text_to_be_present_in_element((By.ID, "offen-qs"), "0 Akte(n)"))
        decided = web.record("sondernutzung")
        assert qa_status(decided) is QaStatus.APPROVED
        assert (decided.audit[-1]["by"], decided.audit[-1]["note"]) == ("akten", "Lesbar")
        browser.find_element(By.ID, "abmelden").click()
        wait.until(ready.presence_of_element_located((By.ID, "anmelden")))
        browser.get(base + "/")
        assert browser.current_url.startswith(base + "/anmelden")
    except Exception as exc:
        shot = _screenshot_on_failure(browser, tmp_path, "web-browser-failure")
        raise AssertionError(f"{exc!r}; screenshot: {shot}") from exc
