"""Results back to the PACS (issue 5): a real Orthanc sends a study to lstv-node, gets a TID 1500 SR
and a key image back in the same study, and the SR's numbers are the flag row in PostgreSQL;
revised reports reference their predecessor; an unchanged re-send produces nothing new."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import nodeproc
import pacs
from conftest import SAGITTAL_COUNT

#: Private codes of the node's SR (docs/SR.md): NUM concept → flags column suffix.
NUM_CODES = {"LSTV001": "confidence", "LSTV002": "entropy", "LSTV003": "spatial_entropy"}
SUSPICION_CODE = "LSTV010"
#: SNOMED CT qualifier values the SR uses for the suspicion.
RISK_OF_CODE = {("75540009", "SCT"): "high", ("255508009", "SCT"): "medium", ("62482003", "SCT"): "low"}
#: The series-level assessment group's NUMs (issue 11) → lstv_flags columns.
ASSESSMENT_CODES = {"LSTV030": "lstv_suspicion", "LSTV031": "lumbar_count", "LSTV032": "lumbar_count_probability"}
SUSPICION_FINDING_CODE = "LSTV011"
MEASUREMENT_GROUP = ("125007", "DCM")
TRACKING_IDENTIFIER = ("112039", "DCM")

ACCESSION = "ACC-ITEST-11"
BUNDLED_MODEL = Path(__file__).resolve().parents[2] / "models" / "lstv-localizer.safetensors"
STUDY_DATE = "20260102"
#: Latin-1 in the source (ISO_IR 100): the results are UTF-8 (ISO_IR 192) with the name converted.
PATIENT_NAME = "Müller^Jörg"
SERIES_SUFFIX = "(Wirbelsäule)"


def _code(item) -> tuple[str, str]:
    c = item.ConceptNameCodeSequence[0]
    return str(c.CodeValue), str(c.CodingSchemeDesignator)


def sr_measurements(sr) -> tuple[dict[str, float], list[str]]:
    """From an SR data set: {"l1_l2_confidence": v, …} (flags column names) and the suspicion values."""
    values: dict[str, float] = {}
    suspicion: list[str] = []

    def walk(items, group_level: str | None):
        for item in items:
            vt = item.ValueType
            if vt == "CONTAINER" and _code(item) == MEASUREMENT_GROUP:
                tid = [i.TextValue for i in item.ContentSequence
                       if i.ValueType == "TEXT" and _code(i) == TRACKING_IDENTIFIER]
                assert len(tid) == 1, "a measurement group must hold one tracking identifier"
                level = tid[0].lower().replace("/", "_")
                walk(item.ContentSequence, level)
                continue
            if vt == "NUM" and _code(item)[1] == "99LSTV" and _code(item)[0] in NUM_CODES:
                assert group_level, "a level NUM outside a measurement group"
                key = f"{group_level}_{NUM_CODES[_code(item)[0]]}"
                assert key not in values, f"{key} twice in the SR"
                values[key] = float(item.MeasuredValueSequence[0].NumericValue)
            if vt == "CODE" and _code(item) == (SUSPICION_CODE, "99LSTV"):
                c = item.ConceptCodeSequence[0]
                suspicion.append(RISK_OF_CODE.get((str(c.CodeValue), str(c.CodingSchemeDesignator)),
                                                  f"unknown {c.CodeValue}"))
            if "ContentSequence" in item:
                walk(item.ContentSequence, group_level)

    walk(sr.ContentSequence, None)
    return values, suspicion


def dciodvfy_errors(path: Path) -> list[str]:
    exe = nodeproc.require_tool("dciodvfy")
    p = subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=120)
    return [line for line in (p.stdout + p.stderr).splitlines() if line.startswith("Error")]


def study_copy(src: Path, dst: Path) -> list[Path]:
    """The study's files with an accession number, a study date and a Latin-1 patient name and series
    description (UIDs unchanged), under ``dst``."""
    import pydicom

    out = []
    for series_dir in sorted(p for p in src.iterdir() if p.is_dir()):
        for f in nodeproc.dicom_files(series_dir):
            ds = pydicom.dcmread(f)
            ds.AccessionNumber = ACCESSION
            ds.StudyDate = STUDY_DATE
            ds.SpecificCharacterSet = "ISO_IR 100"
            ds.PatientName = PATIENT_NAME
            ds.SeriesDescription = f"{ds.SeriesDescription} {SERIES_SUFFIX}"
            target = dst / series_dir.name / f.name
            target.parent.mkdir(parents=True, exist_ok=True)
            ds.save_as(target, enforce_file_format=True)
            out.append(target)
    return out


@pytest.fixture
def orthanc_factory(tmp_path):
    servers: list[pacs.Orthanc] = []

    def make(**kw) -> pacs.Orthanc:
        o = pacs.Orthanc(tmp_path / f"orthanc{len(servers) or ''}", **kw)
        servers.append(o)
        return o

    yield make
    for o in servers:
        o.stop()


def send_sagittal(node_factory, scp, study, results=None):
    """A node (quiet period 1 s) whose results go to `scp`, sent `study`'s sagittal series; every
    instance acknowledged. `results` adds to the node's `results` configuration.
    -> (node, files, study UID, series UID)."""
    node = node_factory(quiet_seconds=1.0, config={"results": {"destinations": [scp.peer], **(results or {})}})
    files = nodeproc.dicom_files(study.sagittal)
    study_uid, series_uid = nodeproc.series_uids(study.sagittal)
    r = nodeproc.send_files(node.port, files)
    assert len(r.acknowledged) == len(files), r
    return node, files, study_uid, series_uid


def sr_assessment(sr) -> tuple[dict[str, float], list[str]]:
    """The assessment group's NUMs ({"lstv_suspicion": v, …}) and the suspicion's TEXT findings."""
    numbers: dict[str, float] = {}
    findings: list[str] = []

    def walk(items):
        for item in items:
            code = _code(item)
            if item.ValueType == "NUM" and code[1] == "99LSTV" and code[0] in ASSESSMENT_CODES:
                key = ASSESSMENT_CODES[code[0]]
                assert key not in numbers, f"{key} twice in the SR"
                numbers[key] = float(item.MeasuredValueSequence[0].NumericValue)
            if item.ValueType == "TEXT" and code == (SUSPICION_FINDING_CODE, "99LSTV"):
                findings.append(str(item.TextValue))
            if "ContentSequence" in item:
                walk(item.ContentSequence)

    walk(sr.ContentSequence)
    return numbers, findings


def test_orthanc_end_to_end_sr_key_image_and_key_objects_in_the_same_study(node_factory, orthanc_factory, lumbar, tmp_path,
                                                               database):
    import highdicom as hd
    import pydicom

    node_port = nodeproc.free_port()
    orthanc = orthanc_factory(modalities={"lstv": [nodeproc.NODE_AE, "127.0.0.1", node_port]})
    orthanc.start()
    # The bundled model: the SR carries its calibrated suspicion and the count evidence.
    node = node_factory(port=node_port, quiet_seconds=1.0, config={"peers": [orthanc.peer], "model": str(BUNDLED_MODEL)})

    study = lumbar[0]
    files = study_copy(study.sagittal.parent, tmp_path / "study")
    study_uid, sag_series = nodeproc.series_uids(tmp_path / "study" / study.sagittal.name)
    _, ax_series = nodeproc.series_uids(tmp_path / "study" / study.axial.name)
    ids = orthanc.upload(files)
    assert len(ids) == 1, f"one study expected in Orthanc, got {ids}"
    study_id = ids.pop()
    assert len(orthanc.series_of_study(study_id)) == 2

    orthanc.post("/modalities/lstv/store", {"Resources": [study_id], "Synchronous": True})
    node.wait_complete([sag_series, ax_series], {sag_series: SAGITTAL_COUNT}, timeout=60)
    # Read as UTF-8 from the Latin-1 instances (the index and the CLI hold UTF-8 text).
    described = {uid: s["series_description"] for uid, s in node.series_by_uid().items()}
    assert described[sag_series].endswith(SERIES_SUFFIX), described

    def results_in_orthanc():
        by_number = {}
        for s in orthanc.series_of_study(study_id):
            num = s["MainDicomTags"].get("SeriesNumber")
            if num in ("9901", "9902", "9903") and s["Instances"]:
                by_number[num] = s
        return by_number if len(by_number) == 3 else None

    got = nodeproc.wait_until(results_in_orthanc, 90, 0.3, "SR (9901), key image (9902), key objects (9903) in Orthanc")
    all_series = orthanc.series_of_study(study_id)
    assert len(all_series) == 5, f"the study must hold the 2 sent series + SR + key image + key objects: {all_series}"

    def fetch(series: dict, name: str) -> tuple[Path, "pydicom.Dataset"]:
        assert len(series["Instances"]) == 1, f"{name}: one instance expected, got {series['Instances']}"
        path = tmp_path / f"{name}.dcm"
        path.write_bytes(orthanc.get_bytes(f"/instances/{series['Instances'][0]}/file"))
        return path, pydicom.dcmread(path)

    sr_path, sr = fetch(got["9901"], "sr")
    ki_path, ki = fetch(got["9902"], "key_image")
    kos_path, kos = fetch(got["9903"], "kos")
    original_series = {sag_series, ax_series}
    for name, ds in (("SR", sr), ("key image", ki), ("key objects", kos)):
        assert ds.StudyInstanceUID == study_uid, f"{name} is not in the analysed study"
        assert ds.SeriesInstanceUID not in original_series, f"{name} must be in a new series"
        assert ds.PatientID == "FCS-IVD-11"
        assert ds.AccessionNumber == ACCESSION
        assert ds.SpecificCharacterSet == "ISO_IR 192", f"{name}: its own text is UTF-8"
        assert str(ds.PatientName) == PATIENT_NAME, f"{name}: patient name converted from Latin-1"
    assert sr.SeriesInstanceUID != ki.SeriesInstanceUID
    assert int(sr.SeriesNumber) == 9901 and int(ki.SeriesNumber) == 9902
    assert sr.SOPClassUID == pacs.COMPREHENSIVE_3D_SR
    assert ki.SOPClassUID == pacs.SECONDARY_CAPTURE
    assert sr.Modality == "SR"
    assert sr.VerificationFlag == "UNVERIFIED"
    assert sr.CompletionFlag == "COMPLETE"
    assert "ContributingEquipmentSequence" in sr
    # The evidence lists every analysed instance (the sagittal series, not the axial one).
    evidence = {str(i.ReferencedSOPInstanceUID)
                for st in sr.CurrentRequestedProcedureEvidenceSequence
                for se in st.ReferencedSeriesSequence if se.SeriesInstanceUID == sag_series
                for i in se.ReferencedSOPSequence}
    sag_sops = {nodeproc.read_uids(f)[2] for f in nodeproc.dicom_files(study.sagittal)}
    assert evidence == sag_sops, f"evidence lists {len(evidence)} of the {len(sag_sops)} analysed instances"

    errors = dciodvfy_errors(sr_path)
    assert not errors, "dciodvfy errors on the SR:\n" + "\n".join(errors)

    # The Key Object Selection (IHE AI Results): "Of Interest", the analysed slice (the one the SR's
    # points are on) and the key image, both in its evidence, so a viewer shows them without the SR.
    assert kos.SOPClassUID == pacs.KEY_OBJECT_SELECTION and kos.Modality == "KO"
    title = kos.ConceptNameCodeSequence[0]
    assert (title.CodeValue, title.CodingSchemeDesignator) == ("113000", "DCM")
    images = [i.ReferencedSOPSequence[0] for i in kos.ContentSequence if i.ValueType == "IMAGE"]
    middle = str(ki.SourceImageSequence[0].ReferencedSOPInstanceUID)  # the slice the key image shows
    assert middle in sag_sops
    assert [str(i.ReferencedSOPInstanceUID) for i in images] == [middle, ki.SOPInstanceUID], images
    assert [str(i.ReferencedSOPClassUID) for i in images][1] == pacs.SECONDARY_CAPTURE
    kos_evidence = {str(i.ReferencedSOPInstanceUID) for st in kos.CurrentRequestedProcedureEvidenceSequence
                    for se in st.ReferencedSeriesSequence for i in se.ReferencedSOPSequence}
    assert kos_evidence == {str(i.ReferencedSOPInstanceUID) for i in images}
    description = [i.TextValue for i in kos.ContentSequence if i.ValueType == "TEXT"]
    assert len(description) == 1 and "NOT FOR DIAGNOSTIC USE" in description[0].upper(), description
    errors = dciodvfy_errors(kos_path)
    assert not errors, "dciodvfy errors on the key objects:\n" + "\n".join(errors)

    report = hd.sr.srread(sr_path)
    assert isinstance(report, hd.sr.Comprehensive3DSR)
    values, suspicion = sr_measurements(report)

    flags = pacs.flags(node)
    assert [f["series_instance_uid"] for f in flags] == [sag_series], "one flag, for the sagittal series only"
    flag = flags[0]
    assert flag["study_instance_uid"] == study_uid
    assert flag["patient_id"] == "FCS-IVD-11"
    assert flag["accession_number"] == ACCESSION
    assert str(flag["study_date"]).replace("-", "")[:8] == STUDY_DATE
    assert flag["risk"] in ("low", "medium", "high")

    levels = ("l1_l2", "l2_l3", "l3_l4", "l4_l5", "l5_s1")
    expected_keys = {f"{lv}_{suffix}" for lv in levels for suffix in NUM_CODES.values()}
    assert set(values) == expected_keys, f"SR NUMs: {sorted(values)}"
    for key in sorted(expected_keys):
        assert flag[key] is not None, f"flag column {key} is null"
        assert abs(values[key] - float(flag[key])) <= 1e-6, f"{key}: SR {values[key]} != flag {flag[key]}"
    # The same numbers straight from PostgreSQL (not through the CLI).
    db_row = database.scalar("SELECT l5_s1_entropy || '|' || l5_s1_confidence || '|' || risk FROM lstv_flags")
    db_entropy, db_conf, db_risk = db_row.split("|")
    assert abs(values["l5_s1_entropy"] - float(db_entropy)) <= 1e-6
    assert abs(values["l5_s1_confidence"] - float(db_conf)) <= 1e-6
    assert suspicion == [flag["risk"]] == [db_risk], f"SR suspicion {suspicion} vs flag risk {flag['risk']}"

    # The continuous suspicion and its evidence (issue 11): the SR's assessment group and TEXT
    # findings are the flag row's columns; the risk follows from the suspicion and the thresholds.
    numbers, findings = sr_assessment(report)
    assert abs(numbers["lstv_suspicion"] - float(flag["lstv_suspicion"])) <= 1e-6, (numbers, flag["lstv_suspicion"])
    assert flag["suspicion_scale"] == "normal_sd" and flag["risk_threshold_origin"] == "model"
    count = flag["result"]["suspicion"]["lumbar_count"]
    if count["value"] is None:  # undetermined: no NUM, and the SR says why
        assert "lumbar_count" not in numbers and flag.get("lumbar_count") is None  # a NULL column is left out
        assert f"Lumbar count undetermined: {count['undetermined_because']}." in findings
        findings = [f for f in findings if not f.startswith("Lumbar count undetermined")]
    else:
        assert numbers["lumbar_count"] == flag["lumbar_count"] == count["value"]
        assert abs(numbers["lumbar_count_probability"] - float(flag["lumbar_count_probability"])) <= 1e-6
    reasons = flag["result"]["suspicion"]["reasons"]
    assert findings == reasons, f"SR findings {findings} vs result reasons {reasons}"
    assert (flag.get("suspicion_reasons") or "") == " | ".join(reasons)
    t = flag["result"]["risk_thresholds"]
    v = float(flag["lstv_suspicion"])
    assert flag["risk"] == ("high" if v > t["high"] else "medium" if v >= t["medium"] else "low"), (v, t, flag["risk"])

    # Delivered to the sender (Orthanc, looked up in peers by its calling AE title), once each.
    rows = pacs.outbox(node)
    dest = f"ORTHANC@127.0.0.1:{orthanc.dicom_port}"
    assert sorted((r["kind"], r["destination"], r["state"]) for r in rows) == \
        [(kind, dest, "sent") for kind in sorted(pacs.RESULT_KINDS)], rows
    assert {r["sop_instance_uid"] for r in rows} == {sr.SOPInstanceUID, ki.SOPInstanceUID, kos.SOPInstanceUID}


# --------------------------------------------------------------------------------------------
# Revisions


def extra_instance(src: Path, dst: Path, instance_number: int) -> Path:
    """A copy of ``src`` with a new SOP Instance UID and InstanceNumber (same series)."""
    import pydicom
    from pydicom.uid import generate_uid

    ds = pydicom.dcmread(src)
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.InstanceNumber = instance_number
    ds.save_as(dst, enforce_file_format=True)
    return dst


def test_late_instance_revises_the_report_and_unchanged_resend_produces_nothing(node_factory, lumbar, tmp_path,
                                                                               database):
    import pydicom

    scp = pacs.StoreSCP(tmp_path / "dest").start()
    try:
        node, files, study_uid, series_uid = send_sagittal(node_factory, scp, lumbar[0])
        scp.wait_files(pacs.PER_ANALYSIS, 90)
        pacs.wait_outbox(node, lambda rows: len(rows) == pacs.PER_ANALYSIS and all(x["state"] == "sent" for x in rows),
                         30, "first report, key image and key objects sent")
        first = {x["kind"]: x for x in pacs.results(database)}
        assert set(first) == pacs.RESULT_KINDS and first["sr"]["predecessor"] is None

        # One late instance of the same series → revision 1 → a second analysis and report.
        late = extra_instance(files[-1], tmp_path / "late.dcm", len(files) + 1)
        r = nodeproc.send_files(node.port, [late])
        assert r.acknowledged == [late], r
        scp.wait_files(2 * pacs.PER_ANALYSIS, 90)
        rows = pacs.wait_outbox(node, lambda rows: len(rows) == 2 * pacs.PER_ANALYSIS and all(
            x["state"] == "sent" for x in rows), 30, "revised report, key image and key objects sent")
        an = pacs.analyses(database)
        assert [(a["series_revision"], a["state"]) for a in an] == [(0, "done"), (1, "done")], an
        res = pacs.results(database)
        second = {x["kind"]: x for x in res if x["analysis_id"] == an[1]["id"]}
        assert set(second) == pacs.RESULT_KINDS, res
        assert second["sr"]["sop_instance_uid"] != first["sr"]["sop_instance_uid"]
        assert second["sr"]["predecessor"] == first["sr"]["sop_instance_uid"]

        received = scp.received()
        assert all(len(v) == 1 for v in received.values()), f"an object arrived twice: {received}"
        assert set(received) == {x["sop_instance_uid"] for x in res}
        revised = pydicom.dcmread(received[second["sr"]["sop_instance_uid"]][0])
        assert revised.StudyInstanceUID == study_uid
        pred = revised.PredecessorDocumentsSequence
        refs = [(st.StudyInstanceUID, se.SeriesInstanceUID, i.ReferencedSOPClassUID, i.ReferencedSOPInstanceUID)
                for st in pred for se in st.ReferencedSeriesSequence for i in se.ReferencedSOPSequence]
        assert refs == [(study_uid, first["sr"]["series_instance_uid"], first["sr"]["sop_class_uid"],
                         first["sr"]["sop_instance_uid"])], refs
        # The revised report's evidence includes the late instance.
        evidence = {str(i.ReferencedSOPInstanceUID) for st in revised.CurrentRequestedProcedureEvidenceSequence
                    for se in st.ReferencedSeriesSequence for i in se.ReferencedSOPSequence}
        assert nodeproc.read_uids(late)[2] in evidence and len(evidence) == len(files) + 1
        flags = pacs.flags(node)
        assert len(flags) == 1 and int(flags[0]["series_revision"]) == 1 and \
            int(flags[0]["analysis_id"]) == an[1]["id"], flags

        # The whole series re-sent unchanged (late instance included): nothing new.
        before_log = node.log().count('msg="series analysed"')
        r = nodeproc.send_files(node.port, files + [late])
        assert len(r.acknowledged) == len(files) + 1, r
        # A marker series sent after the re-send, once complete, proves that the re-sent instances
        # were indexed and that a reopened series would have completed again by then, its analysis
        # job created in the same transaction (nodeproc.send_marker_series).
        marker = nodeproc.send_marker_series(node, nodeproc.dicom_files(lumbar[0].axial)[0], tmp_path / "marker")
        node.wait_complete([marker], {marker: 1}, timeout=30)
        assert len(pacs.analyses(database)) == 2, f"re-sent unchanged series analysed again: {pacs.analyses(database)}"
        listing = node.series_by_uid()[series_uid]
        assert listing["state"] == "complete" and listing["instances"] == len(files) + 1, listing
        assert database.scalar(f"SELECT revision FROM series WHERE series_instance_uid = '{series_uid}'") == "1"
        assert len(pacs.outbox(node)) == 2 * pacs.PER_ANALYSIS
        assert len(scp.files()) == 2 * pacs.PER_ANALYSIS
        assert node.log().count('msg="series analysed"') == before_log
    finally:
        scp.stop()


# --------------------------------------------------------------------------------------------
# UIDs of produced objects


def _received_reports(scp, studies: int) -> list[tuple] | None:
    """(SOP, series, study UID, patient ID, modality) of every object at `scp` once each of
    `studies` studies has an SR, a key image and a Key Object Selection there; None before (or while a file is still being
    written)."""
    import pydicom

    objects = []
    for f in scp.files():
        try:
            ds = pydicom.dcmread(f, stop_before_pixels=True)
            objects.append((str(ds.SOPInstanceUID), str(ds.SeriesInstanceUID), str(ds.StudyInstanceUID),
                            str(ds.PatientID), str(ds.Modality)))
        except Exception:  # storescp still writing it
            return None
    kinds = {}
    for o in objects:
        kinds.setdefault(o[2], set()).add(o[4])
    complete = [k for k, v in kinds.items() if {"SR", "OT", "KO"} <= v]
    return objects if len(complete) == studies else None


def test_reports_of_two_nodes_never_share_sop_instance_uids(node_factory, lumbar, tmp_path, database):
    """Two lstv-node installations (own databases) report on two different studies to one PACS.

    Each report is a different object about a different patient, so its SOP Instance UID must be
    globally unique (PS3.5 9.1). A UID derived from the database's analysis id alone ("analysis 1
    sr") is the same on every installation (and again after a database is re-created): the PACS
    would see the second site's report as the first's, overwriting or dropping it."""
    scp = pacs.StoreSCP(tmp_path / "pacs").start()
    other_db = nodeproc.TestDatabase()
    b = None
    try:
        config = {"results": {"destinations": [scp.peer]}}
        a = node_factory(quiet_seconds=1.0, config=config)
        b = node_factory(quiet_seconds=1.0, config=config, database_url=other_db.url)
        for node, study in ((a, lumbar[0]), (b, lumbar[1])):
            files = nodeproc.dicom_files(study.sagittal)
            r = nodeproc.send_files(node.port, files)
            assert len(r.acknowledged) == len(files), r
        # Wait for both studies' reports, not for a count: on a loaded machine a pause in a send
        # longer than the 1 s quiet period completes a series early, and the late instances
        # reopen it (revision 2, its own SR and key image), so one node may deliver 4 objects
        # before the other delivers any.
        what = ("the SR, key image and key objects of both studies at the PACS (storescp names files by SOP Instance UID: "
                "a UID shared across the two nodes overwrites the other's report)")
        nodeproc.wait_until(lambda: _received_reports(scp, studies=2), 120, 0.2, what)
        # And any revision still on its way: both nodes idle, every delivery sent and at the PACS.
        delivered = [pacs.wait_settled(a, database, 60), pacs.wait_settled(b, other_db, 60)]
        assert all(r["state"] == "sent" for rows in delivered for r in rows), delivered
        objects = nodeproc.wait_until(lambda: _received_reports(scp, studies=2), 30, 0.2, what)
        assert len(objects) == sum(map(len, delivered)), (objects, delivered)
        sops = [o[0] for o in objects]
        series = [o[1] for o in objects]
        assert {o[4] for o in objects} == {"SR", "OT", "KO"}, objects
        assert len(set(sops)) == len(sops), "two installations produced the same SOP Instance UID for different " \
                                            f"reports (different studies/patients): {sorted(objects)}"
        assert len(set(series)) == len(series), f"two reports share a Series Instance UID: {sorted(objects)}"
    finally:
        scp.stop()
        if b is not None:
            b.stop()  # before its database goes
        other_db.drop()


def test_enhanced_sr_without_key_image_as_configured(node_factory, lumbar, tmp_path, database):
    """`sr_document: enhanced`, `key_image: false`, series number/description configured: one
    Enhanced SR arrives, valid for dciodvfy, readable by highdicom, no key image (the Key Object
    Selection then marks the analysed slice alone)."""
    import highdicom as hd
    import pydicom

    scp = pacs.StoreSCP(tmp_path / "dest").start()
    try:
        node, files, study_uid, _ = send_sagittal(node_factory, scp, lumbar[0], results={
            "sr_document": "enhanced", "key_image": False,
            "sr_series_number": 4242, "sr_series_description": "ITEST LSTV report"})
        scp.wait_files(2, 90)
        # The node idle: every result of every analysis is in the outbox and delivered.
        rows = pacs.wait_settled(node, database, 30)
        assert sorted(x["kind"] for x in rows) == ["kos", "sr"], rows
        assert all(x["state"] == "sent" for x in rows), rows
        by_class = {pydicom.dcmread(p, stop_before_pixels=True).SOPClassUID: p for p in scp.files()}
        assert set(by_class) == {pacs.ENHANCED_SR, pacs.KEY_OBJECT_SELECTION}, by_class
        kos = pydicom.dcmread(by_class[pacs.KEY_OBJECT_SELECTION])
        sag_sops = {nodeproc.read_uids(f)[2] for f in files}
        assert [i.ReferencedSOPSequence[0].ReferencedSOPInstanceUID for i in kos.ContentSequence
                if i.ValueType == "IMAGE"] in ([s] for s in sag_sops), "the key objects: the analysed slice alone"
        path = by_class[pacs.ENHANCED_SR]
        ds = pydicom.dcmread(path)
        assert ds.SOPClassUID == pacs.ENHANCED_SR
        assert ds.StudyInstanceUID == study_uid
        assert int(ds.SeriesNumber) == 4242 and ds.SeriesDescription == "ITEST LSTV report"
        errors = dciodvfy_errors(path)
        assert not errors, "dciodvfy errors on the Enhanced SR:\n" + "\n".join(errors)
        report = hd.sr.srread(path)
        values, suspicion = sr_measurements(report)
        flag = pacs.flags(node)[0]
        assert len(values) == 15
        for key, v in values.items():
            assert abs(v - float(flag[key])) <= 1e-6, key
        assert suspicion == [flag["risk"]]
    finally:
        scp.stop()


def test_key_image_is_a_valid_secondary_capture_of_the_middle_slice(node_factory, lumbar, tmp_path, database):
    """The key image: Secondary Capture in the analysed study, series 9902, derived from one of the
    analysed instances, burned-in annotation declared, "NOT FOR DIAGNOSTIC USE", and no dciodvfy
    errors (e.g. General Series' Laterality, Type 2C, which dciodvfy requires when BodyPartExamined
    does not say the part is unpaired)."""
    import pydicom

    scp = pacs.StoreSCP(tmp_path / "dest").start()
    try:
        node, files, study_uid, series_uid = send_sagittal(node_factory, scp, lumbar[0])
        scp.wait_files(pacs.PER_ANALYSIS, 90)
        # The node idle: whatever it produced is delivered; exactly one key image among it.
        rows = pacs.wait_settled(node, database, 30)
        assert {x["kind"] for x in rows} == pacs.RESULT_KINDS and len(scp.files()) == len(rows) == pacs.PER_ANALYSIS, \
            (rows, scp.files())
        [ki_path] = [p for p in scp.files() if pydicom.dcmread(p, stop_before_pixels=True).SOPClassUID
                     == pacs.SECONDARY_CAPTURE]
        ki = pydicom.dcmread(ki_path)
        source = pydicom.dcmread(files[0], stop_before_pixels=True)
        assert ki.StudyInstanceUID == study_uid and ki.SeriesInstanceUID != series_uid
        assert int(ki.SeriesNumber) == 9902
        assert ki.PatientID == source.PatientID
        assert ki.BurnedInAnnotation == "YES"
        assert "NOT FOR DIAGNOSTIC USE" in str(ki.get("DerivationDescription", "")).upper()
        assert ki.PhotometricInterpretation == "RGB" and int(ki.SamplesPerPixel) == 3
        assert ki.pixel_array.shape == (int(ki.Rows), int(ki.Columns), 3)
        sag_sops = {nodeproc.read_uids(f)[2] for f in files}
        refs = [str(i.ReferencedSOPInstanceUID) for i in ki.SourceImageSequence]
        assert len(refs) == 1 and refs[0] in sag_sops, refs
        errors = dciodvfy_errors(ki_path)
        assert not errors, "dciodvfy errors on the key image:\n" + "\n".join(errors)
    finally:
        scp.stop()
