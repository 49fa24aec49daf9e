"""Series assembly over time: late instances reopen a complete series; ignored series are purged
after their retention period while localizer series stay."""
from __future__ import annotations

import os
import subprocess

import nodeproc
from conftest import SAGITTAL_COUNT


def test_late_instances_reopen_a_complete_series(node, lumbar):
    files = nodeproc.dicom_files(lumbar[0].sagittal)
    study, series = nodeproc.series_uids(lumbar[0].sagittal)
    first, late = files[:60], files[60:]
    assert len(late) == SAGITTAL_COUNT - 60

    r = nodeproc.send_files(node.port, first)
    assert len(r.acknowledged) == 60, r
    before = node.wait_complete([series], {series: 60}, timeout=30)[series]
    assert before["route"] == "localizer" and before["completed_at"]

    # The late instances go with DCMTK's storescu (a second, independent sender): once in a CI run
    # pynetdicom's chunked sender waited out its DIMSE timeout for a response the node had sent.
    env = dict(os.environ, TCP_NODELAY="1")
    sent = subprocess.run(["storescu", "-aec", nodeproc.NODE_AE, "-aet", nodeproc.SENDER_AE, "127.0.0.1", str(node.port),
                           *map(str, late)], env=env, capture_output=True, text=True, timeout=60)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    # Reopened (back to receiving, revision + 1) and complete again with the late instances. The
    # receiving state lasts one quiet period (2 s): polling may miss it on a loaded machine, so the
    # revision is the proof of the reopening.
    after = node.wait_complete([series], {series: SAGITTAL_COUNT}, timeout=30)[series]
    assert before["revision"] == 0, before
    assert after["revision"] == 1, f"the late instances did not reopen the series: {after}"
    assert after["completed_at"] > before["completed_at"], "completed_at must move with the new completion"
    assert after["route"] == "localizer"
    assert after["last_instance_at"] > before["last_instance_at"]
    assert len(nodeproc.spool_files(node)) == SAGITTAL_COUNT


def test_ignored_series_are_purged_after_retention(node_factory, lumbar, tmp_path):
    node = node_factory(quiet_seconds=1.0, config={"ignored_retention_hours": 0.0005})  # 1.8 s
    study, sag = nodeproc.series_uids(lumbar[1].sagittal)
    _, ax = nodeproc.series_uids(lumbar[1].axial)
    files = nodeproc.dicom_files(lumbar[1].sagittal) + nodeproc.dicom_files(lumbar[1].axial)
    r = nodeproc.send_files(node.port, files)
    assert len(r.acknowledged) == len(files), r

    node.wait_for_series(lambda l: ax in l and l[ax]["state"] in ("complete", "purged"), 30, "axial series complete")
    listing = node.wait_for_series(lambda l: l.get(ax, {}).get("state") == "purged", 30, "axial series purged")
    assert listing[ax]["route"] == "ignored"
    ax_dir = node.instances_dir / study / ax
    assert not (ax_dir.exists() and list(ax_dir.glob("*.dcm"))), "purged series' files still in the spool"
    assert not ax_dir.exists(), "purged series' directory left behind"

    # Well past the retention period the localizer series is untouched. Proof that a retention
    # sweep ran after that: a marker series (ignored), sent now, completed and purged too.
    marker = nodeproc.send_marker_series(node, nodeproc.dicom_files(lumbar[1].axial)[0], tmp_path / "marker")
    listing = node.wait_for_series(lambda l: l.get(marker, {}).get("state") == "purged", 30, "marker series purged")
    assert listing[marker]["completed_at"] > listing[sag]["completed_at"], (listing[marker], listing[sag])
    assert not (node.instances_dir / study / marker).exists(), "purged marker series left files behind"
    assert listing[sag]["state"] == "complete" and listing[sag]["route"] == "localizer", listing[sag]
    assert len(list((node.instances_dir / study / sag).glob("*.dcm"))) == SAGITTAL_COUNT
    assert len(nodeproc.spool_files(node)) == SAGITTAL_COUNT
    rows = nodeproc.run_psql(node.database_url, "select series_instance_uid, count(*) from instances "
                                                "group by 1").split()
    assert rows == [f"{sag}|{SAGITTAL_COUNT}"], f"index rows after purge: {rows}"
