"""The shared lumbar studies sent by real peers (DCMTK storescu, pynetdicom): every instance
acknowledged, two series per study, the sagittal T2 routed to the localizer, the axial reformat
ignored with a reason, both complete after the quiet period, counts and spool exact."""
from __future__ import annotations

import os
import re
import subprocess
import threading

import pytest

import nodeproc
from conftest import AXIAL_COUNT, SAGITTAL_COUNT

TOTAL = 3 * (SAGITTAL_COUNT + AXIAL_COUNT)  # 354


def expected_series(lumbar):
    """{series uid: (study uid, 'sagittal'|'axial', count)} from the files themselves."""
    out = {}
    for study in lumbar:
        for kind, folder, count in (("sagittal", study.sagittal, SAGITTAL_COUNT), ("axial", study.axial, AXIAL_COUNT)):
            assert len(nodeproc.dicom_files(folder)) == count, f"{folder}: test data changed"
            st, se = nodeproc.series_uids(folder)
            out[se] = (st, kind, count)
    assert len(out) == 6
    return out


def assert_routed(listing: dict[str, dict], expected: dict[str, tuple[str, str, int]]):
    assert set(listing) == set(expected), "series list must hold exactly the six series sent"
    by_study: dict[str, list[str]] = {}
    for uid, (study, kind, count) in expected.items():
        s = listing[uid]
        by_study.setdefault(s["study_instance_uid"], []).append(uid)
        assert s["study_instance_uid"] == study
        assert s["modality"] == "MR"
        assert s["instances"] == count, f"{uid} ({kind}): {s['instances']} instances, expected {count}"
        assert s["state"] == "complete", s
        assert s["completed_at"], s
        for key in ("first_instance_at", "last_instance_at", "series_description", "reason"):
            assert key in s, f"series list --json lacks {key}"
        if kind == "sagittal":
            assert s["route"] == "localizer", f"sagittal T2 series not routed to the localizer: {s}"
        else:
            assert s["route"] == "ignored", f"axial series not ignored: {s}"
            assert s["reason"] and re.search(r"\bplane\b", s["reason"]) and "axial" in s["reason"], \
                f"ignored series' reason must name the plane: {s['reason']!r}"
    assert len(by_study) == 3 and all(len(v) == 2 for v in by_study.values()), "two series per study"


def test_storescu_sends_the_three_studies(node, lumbar, lumbar_root):
    expected = expected_series(lumbar)
    storescu = nodeproc.require_tool("storescu")
    env = dict(os.environ, TCP_NODELAY="1")
    p = subprocess.run([storescu, "-v", "-aet", nodeproc.SENDER_AE, "-aec", nodeproc.NODE_AE, "+sd", "+r",
                        "localhost", str(node.port), str(lumbar_root)],
                       capture_output=True, text=True, env=env, timeout=240)
    out = p.stdout + p.stderr
    assert p.returncode == 0, f"storescu exited {p.returncode}:\n{out[-3000:]}"
    responses = re.findall(r"Received Store Response \(([^)]*)\)", out)
    assert len(responses) == TOTAL, f"storescu saw {len(responses)} store responses, expected {TOTAL}:\n{out[-3000:]}"
    assert set(responses) == {"Success"}, f"non-success store responses: {sorted(set(responses))}"
    assert not re.search(r"^[EF]: ", out, re.M), f"storescu reported errors:\n{out[-3000:]}"

    listing = node.wait_complete(expected, {uid: c for uid, (_, _, c) in expected.items()}, timeout=30)
    assert_routed(listing, expected)

    files = nodeproc.spool_files(node)
    assert len(files) == TOTAL, f"spool holds {len(files)} instance files, expected {TOTAL}"
    assert not node.partial_files(), "partial files left in spool/incoming"
    # Every file lies where its own UIDs say, and the index knows it.
    for f in files[:: 17]:
        st, se, sop = nodeproc.read_uids(f)
        assert f == node.instance_path(st, se, sop)
    db = nodeproc.run_psql(node.database_url, "select count(*), count(distinct sop_instance_uid), "
                                              "count(distinct path) from instances").strip()
    assert db == f"{TOTAL}|{TOTAL}|{TOTAL}"


def test_pynetdicom_sends_the_three_studies_in_parallel(node, lumbar):
    expected = expected_series(lumbar)
    # One association per study, all three at once, as a PACS routing several studies would.
    results = {}

    def send(study):
        results[study.name] = nodeproc.send_files(
            node.port, nodeproc.dicom_files(study.sagittal) + nodeproc.dicom_files(study.axial))

    threads = [threading.Thread(target=send, args=(s,)) for s in lumbar]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    for study in lumbar:
        r = results.get(study.name)
        assert r is not None, f"{study.name}: sender did not finish"
        assert not r.errors, f"{study.name}: {r}"
        assert len(r.statuses) == SAGITTAL_COUNT + AXIAL_COUNT, f"{study.name}: {r}"
        assert all(s == nodeproc.SUCCESS for s in r.statuses.values()), f"{study.name}: {r}"

    listing = node.wait_complete(expected, {uid: c for uid, (_, _, c) in expected.items()}, timeout=30)
    assert_routed(listing, expected)
    assert len(nodeproc.spool_files(node)) == TOTAL


def test_pynetdicom_sends_reencoded_datasets(node, lumbar):
    """The usual pynetdicom path: pydicom Datasets, re-encoded by the sender (implicit VR LE offered
    first, so the node must store what arrived, not what was in the source file)."""
    import pydicom

    study = lumbar[0]
    st, se = nodeproc.series_uids(study.sagittal)
    files = nodeproc.dicom_files(study.sagittal)
    statuses = send_datasets(node.port, files)
    assert statuses == [nodeproc.SUCCESS] * len(files), \
        f"non-success statuses {[hex(s) if s is not None else s for s in statuses if s != 0]}"
    listing = node.wait_complete([se], {se: SAGITTAL_COUNT}, timeout=30)
    assert listing[se]["route"] == "localizer"
    stored = nodeproc.spool_files(node)
    assert len(stored) == SAGITTAL_COUNT
    ds = pydicom.dcmread(stored[0])
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ImplicitVRLittleEndian
    src = pydicom.dcmread(next(f for f in files if nodeproc.read_uids(f)[2] == ds.SOPInstanceUID))
    assert ds.PixelData == src.PixelData and ds.StudyInstanceUID == st


def send_datasets(port: int, files) -> list[int | None]:
    import pydicom
    from pynetdicom import AE, _config

    _config.STORE_SEND_CHUNKED_DATASET = False
    ae = AE(ae_title=nodeproc.SENDER_AE)
    ae.add_requested_context(nodeproc.MR_IMAGE_STORAGE, [pydicom.uid.ImplicitVRLittleEndian])
    assoc = ae.associate("127.0.0.1", port, ae_title=nodeproc.NODE_AE)
    assert assoc.is_established, "association refused"
    statuses = []
    try:
        for f in files:
            ds = pydicom.dcmread(f)
            rsp = assoc.send_c_store(ds)
            statuses.append(int(rsp.Status) if "Status" in rsp else None)
    finally:
        assoc.release()
    return statuses
