"""The node's web face (issue 14, first part): health, readiness, Prometheus metrics that match
what happened, the JSON API behind bearer tokens (401 without, 403 for the wrong role), and the
tokens: the admin token made at first start, and `lstv-node token create`.
"""
from __future__ import annotations


import requests
from prometheus_client.parser import text_string_to_metric_families

import nodeproc
import pacs


def get(node, path, token=None, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(node.http_url + path, headers=headers, timeout=30, **kw)


def metrics(node) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics, parsed by the Prometheus client: (name, sorted labels) -> value."""
    r = get(node, "/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def sample(m, name, **labels) -> float:
    return m.get((name, tuple(sorted(labels.items()))), 0.0)


def test_health_readiness_and_metrics_match_what_happened(node_factory, lumbar, database):
    node = node_factory(quiet_seconds=1.0)
    assert get(node, "/healthz").text == "ok\n"
    ready = get(node, "/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["ready"] is True
    assert {c["name"] for c in body["checks"]} == {"database", "dicom_listener", "model", "disk"}

    files = nodeproc.dicom_files(lumbar[0].sagittal)
    r = nodeproc.send_files(node.port, files)
    assert len(r.acknowledged) == len(files), r
    pacs.wait_settled(node, database, 120)

    m = metrics(node)
    assert sample(m, "lstv_instances_received_total", status="0x0000") == len(files)
    stored = sum(p.stat().st_size for p in node.instances_dir.rglob("*.dcm"))
    assert sample(m, "lstv_received_bytes_total") == stored
    assert sample(m, "lstv_associations_total", outcome="accepted", reason="") >= 2  # the start's C-ECHO and the store
    analyses = pacs.analyses(database)
    assert len(analyses) == 1 and analyses[0]["state"] == "done"
    model = database.scalar("SELECT model_name FROM analyses")
    assert sample(m, "lstv_analyses_total", model=model, outcome="done") == 1
    assert sample(m, "lstv_analysis_seconds_count", model=model) == 1
    assert sample(m, "lstv_flags_total", risk=analyses[0]["risk"]) == 1
    assert sample(m, "lstv_series", state="complete") == 1
    assert sample(m, "lstv_cstore_handling_seconds_count") == len(files)
    assert sample(m, "lstv_spool_free_bytes") > 0
    assert sample(m, "lstv_associations_active") == 0


def test_api_needs_a_token_and_shows_the_flags(node_factory, lumbar, database):
    node = node_factory(quiet_seconds=1.0)
    unauthenticated = get(node, "/api/v1/flags")
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["WWW-Authenticate"].startswith("Bearer")
    assert get(node, "/api/v1/flags", token="lstv_not-a-token").status_code == 401
    admin = node.admin_token()

    files = nodeproc.dicom_files(lumbar[0].sagittal)
    assert len(nodeproc.send_files(node.port, files).acknowledged) == len(files)
    pacs.wait_settled(node, database, 120)

    flags = get(node, "/api/v1/flags", token=admin)
    assert flags.status_code == 200, flags.text
    (item,) = flags.json()["items"]
    view = database.psql("SELECT risk, lstv_suspicion, series_instance_uid FROM lstv_flags").split("|")
    assert item["risk"] == view[0] and abs(item["lstv_suspicion"] - float(view[1])) < 1e-9
    assert isinstance(item["l5_s1_entropy"], float)
    assert get(node, "/api/v1/flags?risk=none", token=admin).status_code == 400
    assert get(node, "/api/v1/flags?limit=0", token=admin).status_code == 400

    uid = item["series_instance_uid"]
    series = get(node, f"/api/v1/series/{uid}", token=admin).json()
    assert series["state"] == "complete" and series["route"] == "localizer" and series["instances"] == len(files)
    assert series["analyses"][0]["state"] == "done" and "levels" in series["analyses"][0]["result"]
    assert get(node, "/api/v1/series/1.2.3.4", token=admin).status_code == 404
    listing = get(node, "/api/v1/series", token=admin).json()
    assert listing["total"] == 1


def test_roles_viewer_reads_admin_retries(node_factory, lumbar, database, tmp_path):
    node, viewer, admin = pacs.node_with_dead_destination(node_factory, tmp_path)
    assert "admin token (shown once" not in node.log_path.read_text(), "configured tokens: no first-start token"

    files = nodeproc.dicom_files(lumbar[0].sagittal)
    assert len(nodeproc.send_files(node.port, files).acknowledged) == len(files)
    rows = pacs.wait_outbox(node, lambda rows: len(rows) == pacs.PER_ANALYSIS and all(r["state"] == "dead" for r in rows), 120,
                            "every delivery dead")
    outbox = get(node, "/api/v1/outbox", token=viewer).json()
    assert [i["state"] for i in outbox["items"]] == ["dead"] * pacs.PER_ANALYSIS

    target = rows[0]["id"]
    forbidden = requests.post(f"{node.http_url}/api/v1/outbox/{target}/retry", headers={"Authorization": f"Bearer {viewer}"}, timeout=30)
    assert forbidden.status_code == 403, forbidden.text
    assert forbidden.headers["Content-Type"].startswith("application/json") and forbidden.json()["status"] == 403
    # The dashboard's resend answers a viewer with a page, not a JSON document.
    page = requests.post(f"{node.http_url}/deliveries/{target}/retry", headers={"Authorization": f"Bearer {viewer}"}, timeout=30)
    assert page.status_code == 403 and page.headers["Content-Type"].startswith("text/html"), (page.status_code, page.headers)
    assert "this needs admin" in page.text and "<html" in page.text.lower()
    retried = requests.post(f"{node.http_url}/api/v1/outbox/{target}/retry", headers={"Authorization": f"Bearer {admin}"}, timeout=30)
    assert retried.status_code == 200, retried.text
    assert retried.json() == {"id": target, "state": "pending"}
    # The sender takes it up again (and, the destination still down, it dies again).
    pacs.wait_outbox(node, lambda rows: next(r for r in rows if r["id"] == target)["attempts"] == 1
                     and next(r for r in rows if r["id"] == target)["last_error"] is not None, 60, "the retried delivery attempted")
    missing = requests.post(f"{node.http_url}/api/v1/outbox/999999/retry", headers={"Authorization": f"Bearer {admin}"}, timeout=30)
    assert missing.status_code == 404


def test_readiness_fails_below_the_disk_threshold(node_factory):
    node = node_factory(config={"minimum_free_disk_mb": 1_000_000_000})
    ready = get(node, "/readyz")
    assert ready.status_code == 503
    disk = next(c for c in ready.json()["checks"] if c["name"] == "disk")
    assert disk["ready"] is False and "C-STORE refused below" in disk["detail"]


def test_http_port_zero_turns_the_web_face_off(node_factory):
    node = node_factory(http_port=0)
    log = node.log_path.read_text()
    assert "msg=listening" in log
    assert "http listening" not in log and "admin token" not in log
