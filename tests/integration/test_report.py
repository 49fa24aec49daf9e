"""`lstv-node report` (issue 13): the cohort report is one self-contained HTML page that a browser
shows offline.

The real binary analyses the three shared studies (`analyze --format json`), writes the report from
that file with a labels CSV, and headless Chromium (Debian's ``chromium`` driven by selenium through
``chromedriver``) opens it: every section is there and visible, every chart has drawn content, and
the page asked for nothing over the network. A node that received a study by C-STORE then reports
from its database, with the key image as an embedded PNG thumbnail that decodes to a real picture.

A full-page screenshot of each page is saved under the test's tmp dir, and copied into
``$LSTV_TEST_ARTIFACTS`` when that is set (scripts/test.sh sets it and prints where).

Needs ``LSTV_NODE_BIN``, ``LSTV_TEST_DATABASE_URL``, the shared studies, ``chromium`` and
``chromedriver`` (scripts/bootstrap.sh --test installs them); without them the tests FAIL.
"""
from __future__ import annotations

import base64
import csv
import json
import re
import subprocess
from pathlib import Path

import pytest

import nodeproc
import pacs
from browser import Browser, browser, decode_png, keep_artefact  # noqa: F401 (browser: a fixture)

REPO = Path(__file__).resolve().parents[2]
BUNDLED_MODEL = REPO / "models" / "lstv-localizer.safetensors"

#: The report's section ids, in page order (CohortReport's ReportSection).
SECTIONS = ["risk-counts", "entropy-histograms", "confidence-box-plots", "l5s1-scatter", "suspicion-distribution",
            "top-candidates", "level-comparison", "label-performance"]
#: Elements that draw data in a chart (Charts' classes); axes and frames do not count.
DATA_ELEMENTS = ".bar, .point, .box, .curve, .marker"


def report(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    p = subprocess.run([nodeproc.node_binary(), "report", *map(str, args)], capture_output=True, text=True, timeout=timeout,
                       cwd=REPO)
    assert p.returncode == 0, f"report exited {p.returncode}:\n{p.stderr[-3000:]}"
    return p


def assert_no_network_reference(html: str) -> None:
    """No URL anywhere: only `data:` in src/href, no scheme-qualified or protocol-relative address
    (base64 thumbnails hold neither ':' nor '//' sequences with a scheme before them)."""
    assert not re.search(r"(?i)\b(https?|ftp|wss?):", html), "a network URL in the report"
    for attr, value in re.findall(r"""(?i)\b(src|href|xlink:href)\s*=\s*["']?([^"'\s>]*)""", html):
        assert value.startswith("data:"), f"{attr}={value[:80]!r} is not a data: URI"
    assert not re.search(r"(?i)url\(\s*['\"]?(?!data:)", html), "a CSS url() that is not data:"
    assert "@import" not in html


def check_report_page(browser: Browser) -> list[dict]:
    """Every section present and visible, every chart drawn; returns the charts' measurements."""
    from selenium.webdriver.common.by import By

    for sid in SECTIONS:
        elements = browser.driver.find_elements(By.ID, sid)
        assert len(elements) == 1, f"section #{sid}: {len(elements)} elements"
        assert elements[0].is_displayed(), f"section #{sid} is not visible"
        size = elements[0].size
        assert size["width"] > 100 and size["height"] > 40, f"section #{sid} is {size}"
    charts = browser.js("""
        return Array.from(document.querySelectorAll('svg.chart')).map(svg => {
            const box = svg.getBBox(), rect = svg.getBoundingClientRect();
            const data = Array.from(svg.querySelectorAll(arguments[0]));
            let drawn = 0;
            for (const el of data) { const b = el.getBBox(); if (b.width > 0 || b.height > 0) drawn++; }
            return {title: svg.getAttribute('aria-label'), section: svg.closest('section').id,
                    shapes: svg.querySelectorAll('rect, circle, path').length, data: data.length, drawn: drawn,
                    bbox: [box.width, box.height], shown: [rect.width, rect.height]};
        });""", DATA_ELEMENTS)
    for c in charts:
        assert c["shapes"] > 0 and c["data"] > 0 and c["drawn"] > 0, f"chart without drawn data: {c}"
        assert min(c["bbox"]) > 0 and min(c["shown"]) > 0, f"chart with an empty box: {c}"
    return charts


def assert_screenshot_shows_a_page(path: Path) -> None:
    image = decode_png(path.read_bytes())
    height, width = image.shape[:2]
    assert width >= 1000 and height >= 2000, f"screenshot {width}x{height}: not the full page"
    assert float(image.std()) > 20, "screenshot is blank"


@pytest.fixture(scope="module")
def analysed(lumbar, tmp_path_factory) -> Path:
    """`analyze --format json` of the three shared sagittal series (the bundled model)."""
    out = tmp_path_factory.mktemp("report") / "results.json"
    p = subprocess.run([nodeproc.node_binary(), "analyze", "--format", "json", "--model", str(BUNDLED_MODEL),
                        "--output", str(out), *[str(s.sagittal) for s in lumbar]],
                       capture_output=True, text=True, timeout=900, cwd=REPO)
    assert p.returncode == 0, f"analyze exited {p.returncode}:\n{p.stderr[-3000:]}"
    assert len(json.loads(out.read_text())) == 3
    return out


def test_report_from_analyze_output_opens_offline_with_every_section(analysed, browser, tmp_path):
    results = json.loads(analysed.read_text())
    labels = tmp_path / "labels.csv"
    with labels.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["series_instance_uid", "lstv", "castellvi"])
        for i, r in enumerate(results):
            w.writerow([r["series_instance_uid"], 1 if i == 0 else 0, "IIa" if i == 0 else ""])
    page = tmp_path / "report.html"
    out = report("--results", analysed, "--labels", labels, "--output", page)
    assert "3 series" in out.stdout

    html = page.read_text()
    assert "http" not in html.lower(), "no URL at all (nothing embedded here is base64)"
    assert_no_network_reference(html)
    for sid in SECTIONS:
        assert f'id="{sid}"' in html
    for r in results:
        assert r["series_instance_uid"] in html, "every series is among the top candidates"
    assert "ROC AUC" in html and "Labels were not given" not in html

    browser.open(page)
    charts = check_report_page(browser)
    # Risk bars, 5 entropy histograms, the box plot, 2 scatters, suspicion histogram, lumbar counts, ROC, PR.
    assert len(charts) == 13, [c["title"] for c in charts]
    assert {c["section"] for c in charts} == set(SECTIONS) - {"top-candidates", "level-comparison"}
    rows = browser.js("return document.querySelectorAll('#top-candidates tr.candidate').length")
    assert rows == 3
    assert browser.network_requests() == [], "the page fetched something"
    shot = browser.screenshot(tmp_path / "report.png")
    assert_screenshot_shows_a_page(shot)
    keep_artefact(shot)


def test_report_from_csv_without_labels_says_so(lumbar, analysed, tmp_path):
    # CSV carries no thresholds: the report still renders and says labels were not given.
    csv_out = tmp_path / "results.csv"
    p = subprocess.run([nodeproc.node_binary(), "analyze", "--format", "csv", "--model", str(BUNDLED_MODEL), "--no-ladder-stability",
                        "--neighbours", "0", "--output", str(csv_out), str(lumbar[0].sagittal)],
                       capture_output=True, text=True, timeout=600, cwd=REPO)
    assert p.returncode == 0, p.stderr[-3000:]
    page = tmp_path / "report.html"
    report("--results", csv_out, "--output", page)
    html = page.read_text()
    assert "Labels were not given" in html
    assert "not recorded in the source" in html
    assert_no_network_reference(html)


def test_report_usage_errors(tmp_path):
    p = subprocess.run([nodeproc.node_binary(), "report", "--output", str(tmp_path / "r.html")], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode != 0 and "--results" in p.stderr
    bad = tmp_path / "labels.csv"
    bad.write_text("patient,lstv\nx,1\n")
    results = tmp_path / "results.json"
    results.write_text("[]")
    p = subprocess.run([nodeproc.node_binary(), "report", "--results", str(results), "--labels", str(bad), "--output",
                        str(tmp_path / "r.html")], capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "no key column" in p.stderr
    assert not (tmp_path / "r.html").exists()


def test_report_from_the_database_embeds_the_key_image(node_factory, lumbar, browser, tmp_path):
    node = node_factory(quiet_seconds=1.0)
    study = lumbar[1]
    files = nodeproc.dicom_files(study.sagittal)
    _, series_uid = nodeproc.series_uids(study.sagittal)
    pacs.storescu(node.port, files)
    flags = nodeproc.wait_until(lambda: pacs.flags(node), 180, 0.5, "the series analysed (a row in lstv_flags)",
                                lambda: f"node log:\n{node.log_tail(30)}")
    assert [f["series_instance_uid"] for f in flags] == [series_uid]

    page = tmp_path / "report-from-db.html"
    out = report("--from-db", "--database-url", node.database_url, "--since", "2000-01-01T00:00:00Z", "--output", page)
    assert "1 series" in out.stdout, out.stdout
    html = page.read_text()
    assert_no_network_reference(html)
    thumbnails = re.findall(r'<img class="thumbnail" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(thumbnails) == 1, "the key image of the one series"
    image = decode_png(base64.b64decode(thumbnails[0], validate=True))
    height, width = image.shape[:2]
    assert max(height, width) == 160 and image.shape[2] == 3, image.shape
    assert float(image.std()) > 10, "thumbnail is blank"

    browser.open(page)
    check_report_page(browser)
    shown = browser.js("const i = document.querySelector('#top-candidates img.thumbnail');"
                       "return [i.complete, i.naturalWidth, i.naturalHeight, i.getBoundingClientRect().width];")
    assert shown[0] and shown[1] == width and shown[2] == height and shown[3] > 0, shown
    assert browser.network_requests() == []
    shot = browser.screenshot(tmp_path / "report-from-db.png")
    assert_screenshot_shows_a_page(shot)
    keep_artefact(shot)
