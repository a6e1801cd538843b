"""Take the README's screenshot of the search page (docs/suche.png), reproducibly.

A demo archive is built in a temporary folder with the real commands, as the README tells
a town to do it: the bundled born-digital samples and the drawn German letters of
``make_letters.py`` are ingested (``akte ingest``), an admin is created (``akte user add
--password-stdin``) and ``akte serve`` runs on a free local port. Debian's chromium, headless
at an office screen's 1366×768 and driven by Selenium through chromium-driver, signs in,
searches and saves the page. Everything is removed afterwards.

Usage: .venv/bin/python scripts/screenshot.py [--out docs/suche.png] [--query "Müller OR Rechnung"]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
from make_letters import main as make_letters  # noqa: E402

USER = "registratur"


def akte(archive: Path, *args: str, stdin: str | None = None) -> None:
    """Run one ``akte`` command on ``archive``; stop with its output if it fails."""
    done = subprocess.run([sys.executable, "-m", "aktenarchiv", "--archive", str(archive), *args],
                          input=stdin, text=True, capture_output=True)
    if done.returncode != 0:
        sys.exit(f"akte {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, seconds: float = 30) -> None:
    """Until the server answers ``url``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                sys.exit(f"the server did not answer {url} within {seconds:.0f} s")
            time.sleep(0.2)


def photograph(base: str, password: str, query: str, out: Path) -> None:
    """Sign in with headless chromium, search ``query`` and save the page as ``out``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        sys.exit("chromium and chromium-driver are needed (bash scripts/setup.sh installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--lang=de-DE"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "de-DE,de"})
    # On Linux chromium takes its locale (date fields: TT.MM.JJJJ) from the environment.
    service = Service(driver_path, env={**os.environ, "LANGUAGE": "de_DE", "LC_ALL": "de_DE.UTF-8"})
    browser = webdriver.Chrome(service=service, options=options)
    try:
        # The page area of an office screen, whatever the headless window's frame takes.
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False})
        wait = WebDriverWait(browser, 30)
        browser.get(base + "/anmelden")
        wait.until(ready.presence_of_element_located((By.ID, "name"))).send_keys(USER)
        browser.find_element(By.ID, "passwort").send_keys(password, Keys.ENTER)
        wait.until(ready.presence_of_element_located((By.ID, "q"))).send_keys(query, Keys.ENTER)
        wait.until(ready.text_to_be_present_in_element((By.ID, "anzahl"), "Treffer"))
        out.parent.mkdir(parents=True, exist_ok=True)
        if not browser.save_screenshot(str(out)):
            sys.exit(f"chromium could not save {out}")
    finally:
        browser.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "suche.png")
    parser.add_argument("--query", default="Müller OR Rechnung")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="akte-screenshot-"))
    archive, password = work / "archiv", secrets.token_urlsafe(16)
    try:
        make_letters(work / "briefe")
        akte(archive, "ingest", str(ROOT / "samples" / "born-digital"), str(work / "briefe"))
        akte(archive, "user", "add", USER, "--role", "records", "--password-stdin", stdin=password + "\n")
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "aktenarchiv", "--archive", str(archive), "serve",
                                   "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for(f"http://127.0.0.1:{port}/anmelden")
            photograph(f"http://127.0.0.1:{port}", password, args.query, args.out)
        finally:
            server.terminate()
            server.wait(10)
        print(f"saved {args.out}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
