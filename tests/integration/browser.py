"""Headless Chromium for the integration tests (the cohort report, the dashboard): Debian's
``chromium`` driven by selenium through ``chromedriver``, full-page screenshots, and keeping them
as test artefacts (``$LSTV_TEST_ARTIFACTS``)."""
from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import pytest

import nodeproc

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


class Browser:
    """Headless Chromium (Debian's ``chromium``) through ``chromedriver``: a file: page or a node's pages."""

    def __init__(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        for exe in (CHROMIUM, CHROMEDRIVER):
            if not os.access(exe, os.X_OK):
                pytest.fail(f"{exe} missing: scripts/bootstrap.sh --test installs chromium and chromium-driver", pytrace=False)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        # Root needs --no-sandbox; no GPU on test machines.
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
                    "--no-first-run", "--disable-extensions", "--disable-background-networking"):
            options.add_argument(arg)
        self.driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(60)
        self.driver.set_script_timeout(30)

    def close(self) -> None:
        self.driver.quit()

    def open(self, where: Path | str) -> None:
        """A file (a Path) or a URL (a str); returns once the document has loaded."""
        self.driver.get(where.resolve().as_uri() if isinstance(where, Path) else where)
        nodeproc.wait_until(lambda: self.driver.execute_script("return document.readyState") == "complete", 30, 0.1,
                            "the page loaded")

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def network_requests(self) -> list[str]:
        """Resources the page loaded other than data: URIs (Resource Timing lists every fetch)."""
        entries = self.js("return performance.getEntriesByType('resource').map(e => e.name)")
        return [e for e in entries if not e.startswith("data:")]

    def screenshot(self, path: Path) -> Path:
        """The whole page (beyond the window), through the DevTools protocol."""
        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


@pytest.fixture
def browser():
    b = Browser()
    try:
        yield b
    finally:
        b.close()


def keep_artefact(path: Path) -> None:
    """Copies a screenshot into $LSTV_TEST_ARTIFACTS (when set) for a person to look at."""
    target = os.environ.get("LSTV_TEST_ARTIFACTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)


def decode_png(data: bytes):
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None, "not a PNG OpenCV can decode"
    return image
