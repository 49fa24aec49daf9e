"""Retention of received images for every series (issue 15), with a real node, PostgreSQL and DCMTK
storescp destinations: an analysed series whose results are delivered is purged by age (files
gone, flag, SR and key image kept; QIDO/WADO no longer offer its instances), one whose results
are not delivered (destination down) is not; new instances of a purged series are a new arrival;
under disk pressure the oldest purgeable series go first."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import requests

import nodeproc
import pacs

#: Deliveries to a destination that is down stay pending (never dead) for the whole test.
KEEP_TRYING = {"max_attempts": 100000, "initial_backoff_seconds": 0.5, "max_backoff_seconds": 1}
#: received_retention_days as ~1.7 s; ignored series after 3.6 s: a marker (ignored) series purged
#: proves a sweep ran after every series received before it was old enough.
SHORT_RETENTION = {"received_retention_days": 0.00002, "ignored_retention_hours": 0.001}
RESENT = 20


def series_rows(db: nodeproc.TestDatabase) -> dict[str, dict]:
    out = db.psql("SELECT coalesce(json_agg(json_build_object('uid', series_instance_uid, 'state', state, "
                  "'instances', instances, 'revision', revision, 'purged_at', purged_at, 'purge_reason', purge_reason, "
                  "'last_instance_at', last_instance_at)), '[]') FROM series")
    return {r["uid"]: r for r in json.loads(out.strip() or "[]")}


def result_paths(db: nodeproc.TestDatabase, series: str) -> list[Path]:
    out = db.psql(f"SELECT r.path FROM results r JOIN analyses a ON a.id = r.analysis_id "
                  f"WHERE a.series_instance_uid = '{series}' ORDER BY r.id")
    return [Path(p) for p in out.split()]


def wait_state(node, series: str, state: str, timeout: float) -> dict:
    return node.wait_for_series(lambda l: l.get(series, {}).get("state") == state, timeout, f"series {state}")[series]


def peers_up_and_down(tmp_path) -> tuple[pacs.StoreSCP, pacs.StoreSCP]:
    """A destination that answers, and one configured but never started."""
    return pacs.StoreSCP(tmp_path / "up", ae_title="UPPACS").start(), pacs.StoreSCP(tmp_path / "down", ae_title="DOWNPACS")


def send(node, folder: Path, calling_ae: str, files: list[Path] | None = None) -> tuple[str, str]:
    files = files or nodeproc.dicom_files(folder)
    r = nodeproc.send_files(node.port, files, calling_ae=calling_ae)
    assert len(r.acknowledged) == len(files), r
    return nodeproc.series_uids(folder)


def test_delivered_series_purged_by_age_undelivered_kept_resent_is_new(node_factory, database, lumbar, tmp_path):
    up, down = peers_up_and_down(tmp_path)
    try:
        node = node_factory(quiet_seconds=1.0, config={
            **SHORT_RETENTION, "peers": [up.peer, down.peer], "results": {"send_to_sender": True, **KEEP_TRYING}})
        study_a, a = send(node, lumbar[0].sagittal, up.ae_title)
        study_b, b = send(node, lumbar[1].sagittal, down.ae_title)

        purged = wait_state(node, a, "purged", 120)
        assert purged["route"] == "localizer" and purged["purge_reason"] == "received_retention", purged
        assert not (node.instances_dir / study_a / a).exists(), "purged series' files still in the spool"
        kept = result_paths(database, a)
        assert len(kept) == pacs.PER_ANALYSIS and all(p.is_file() for p in kept), kept
        assert len(up.files()) == pacs.PER_ANALYSIS, "the SR, key image and key objects were delivered before the purge"
        assert [f["series_instance_uid"] for f in pacs.flags(node)].count(a) == 1, "the flag stays"
        row = series_rows(database)[a]
        assert row["purge_reason"] == "received_retention" and row["purged_at"], row

        # B's results wait for a destination that is down: analysed, delivery pending, never purged,
        # even after a sweep that came well after B was old enough (the marker's purge).
        pacs.wait_outbox(node, lambda rows: any(r["destination"].startswith(down.ae_title) and r["state"] == "pending"
                                                and r["attempts"] >= 1 for r in rows), 60, "B's deliveries pending")
        marker = nodeproc.send_marker_series(node, nodeproc.dicom_files(lumbar[2].axial)[0], tmp_path / "marker")
        wait_state(node, marker, "purged", 60)
        rows = series_rows(database)
        assert rows[b]["state"] == "complete" and rows[b]["purged_at"] is None, rows[b]
        assert len(list((node.instances_dir / study_b / b).glob("*.dcm"))) == len(nodeproc.dicom_files(lumbar[1].sagittal))

        # QIDO no longer lists A's received instances, WADO answers 404 for them; its SR is still there.
        auth = {"Authorization": f"Bearer {node.admin_token()}"}
        web = f"{node.http_url}/dicomweb/studies/{study_a}"
        instances = requests.get(f"{web}/series/{a}/instances", headers=auth, timeout=30)
        assert instances.status_code == 200 and instances.json() == [], instances.text
        first = nodeproc.read_uids(nodeproc.dicom_files(lumbar[0].sagittal)[0])[2]
        for gone in (f"{web}/series/{a}/instances/{first}", f"{web}/series/{a}"):
            answer = requests.get(gone, headers=auth, timeout=30)
            assert answer.status_code == 404 and "purged" in answer.json()["error"], (gone, answer.text)
        study_objects = requests.get(f"{web}/instances", headers=auth, timeout=30)
        assert study_objects.status_code == 200 and len(study_objects.json()) == pacs.PER_ANALYSIS, \
            "the SR, key image and key objects stay listed"

        # New instances of the purged series: a new arrival, counted and analysed from themselves alone.
        send(node, lumbar[0].sagittal, up.ae_title, nodeproc.dicom_files(lumbar[0].sagittal)[:RESENT])
        nodeproc.wait_until(lambda: len([x for x in pacs.analyses(database) if x["series_instance_uid"] == a
                                         and x["state"] == "done"]) == 2, 120, 0.2, "A analysed again")
        detail = requests.get(f"{node.http_url}/api/v1/series/{a}", headers=auth, timeout=30).json()
        again = [x for x in detail["analyses"] if x["state"] == "done"][-1]
        assert again["series_revision"] == 1 and again["result"]["slice"]["count"] == RESENT, again
        assert detail["instances"] == RESENT and detail["purged_at"] and detail["purge_reason"], detail
        up.wait_files(2 * pacs.PER_ANALYSIS, 60)  # the second analysis delivered too
    finally:
        up.stop()


def test_disk_pressure_purges_the_oldest_purgeable_first(node_factory, database, lumbar, tmp_path):
    up, down = peers_up_and_down(tmp_path)
    try:
        node = node_factory(quiet_seconds=1.0, config={"peers": [up.peer, down.peer],
                                                        "results": {"send_to_sender": True, **KEEP_TRYING}})
        delivered = [send(node, lumbar[i].sagittal, up.ae_title)[1] for i in range(2)]
        _, waiting = send(node, lumbar[2].sagittal, down.ae_title)
        up.wait_files(2 * pacs.PER_ANALYSIS, 120)
        # All three analysed (every result in the outbox), A's and B's delivered, C's waiting.
        pacs.wait_outbox(node, lambda rows: len(rows) == 3 * pacs.PER_ANALYSIS and all(
            r["state"] == "sent" for r in rows if r["destination"].startswith(up.ae_title)), 60, "A and B delivered")
        # Make the second series the older one: the order is by last receipt, not by arrival.
        database.psql(f"UPDATE series SET last_instance_at = last_instance_at - interval '1 hour' "
                      f"WHERE series_instance_uid = '{delivered[1]}'")
        oldest_first = [delivered[1], delivered[0]]
        node.stop()

        # A free-space target above what the disk has: the node is under pressure from its first sweep.
        free_mb = shutil.disk_usage(node.data_dir).free // (1024 * 1024)
        node.config["retention_free_disk_mb"] = free_mb + 1024 * 1024
        node.start()
        node.wait_for_log("free disk space still below the retention target", 60)
        rows = series_rows(database)
        assert [rows[u]["state"] for u in oldest_first] == ["purged", "purged"], rows
        assert all(rows[u]["purge_reason"] == "disk_pressure" for u in oldest_first), rows
        assert rows[oldest_first[0]]["purged_at"] < rows[oldest_first[1]]["purged_at"], "oldest first"
        assert rows[waiting]["state"] == "complete", "results not delivered: kept under disk pressure too"
        assert list(node.instances_dir.glob(f"*/{waiting}/*.dcm")), "the waiting series' files are gone"
    finally:
        up.stop()
