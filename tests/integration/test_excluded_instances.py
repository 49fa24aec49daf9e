"""A series is analysed from the instances that can be (issue 15): a real sagittal series plus two
edited copies of its instances (same series, new SOP Instance UIDs: one without pixel data, one of
another size) goes to a running node with a destination; the SR still comes back, names the two
instances and why, and `GET /api/v1/series/{uid}` lists them; the analysis ran on the real slices."""
from __future__ import annotations

from pathlib import Path

import requests

import nodeproc
import pacs
from conftest import SAGITTAL_COUNT

EXCLUDED_FINDING = ("LSTV012", "99LSTV")
SR_MODALITY = "SR"


def edited_copies(template: Path, directory: Path) -> dict[str, object]:
    """Two copies of ``template`` with new SOP Instance UIDs in its series: without pixel data, and
    at half its rows and columns (a real pixel array of that size). Returns their paths and UIDs
    and the sizes involved."""
    import pydicom
    from pydicom.uid import generate_uid

    directory.mkdir(parents=True, exist_ok=True)
    no_pixels = pydicom.dcmread(template)
    rows, columns = int(no_pixels.Rows), int(no_pixels.Columns)
    del no_pixels.PixelData
    no_pixels.SOPInstanceUID = generate_uid()
    no_pixels.file_meta.MediaStorageSOPInstanceUID = no_pixels.SOPInstanceUID
    no_pixels_path = directory / "no-pixels.dcm"
    no_pixels.save_as(no_pixels_path, enforce_file_format=True)

    smaller = pydicom.dcmread(template)
    half = smaller.pixel_array[::2, ::2].copy()
    smaller.Rows, smaller.Columns = half.shape
    smaller.PixelData = half.tobytes()
    smaller.SOPInstanceUID = generate_uid()
    smaller.file_meta.MediaStorageSOPInstanceUID = smaller.SOPInstanceUID
    smaller_path = directory / "smaller.dcm"
    smaller.save_as(smaller_path, enforce_file_format=True)
    return {"paths": [no_pixels_path, smaller_path],
            "reasons": {str(no_pixels.SOPInstanceUID): "no pixel data",
                        str(smaller.SOPInstanceUID): f"rows/columns {half.shape[0]}x{half.shape[1]} "
                                                     f"differ from the series' {rows}x{columns}"}}


def exclusion_texts(sr) -> list[str]:
    out: list[str] = []

    def walk(items):
        for item in items:
            c = item.ConceptNameCodeSequence[0] if "ConceptNameCodeSequence" in item else None
            if item.ValueType == "TEXT" and c is not None and (str(c.CodeValue), str(c.CodingSchemeDesignator)) == EXCLUDED_FINDING:
                out.append(str(item.TextValue))
            if "ContentSequence" in item:
                walk(item.ContentSequence)

    walk(sr.ContentSequence)
    return out


def test_odd_instances_are_excluded_and_named(node_factory, lumbar, tmp_path):
    import pydicom

    scp = pacs.StoreSCP(tmp_path / "dest").start()
    try:
        node = node_factory(quiet_seconds=1.0, config={"results": {"destinations": [scp.peer]}})
        originals = nodeproc.dicom_files(lumbar[0].sagittal)
        edited = edited_copies(originals[0], tmp_path / "edited")
        files = originals + edited["paths"]
        r = nodeproc.send_files(node.port, files)
        assert len(r.acknowledged) == len(files), r
        _, series = nodeproc.series_uids(lumbar[0].sagittal)

        delivered = scp.wait_files(pacs.PER_ANALYSIS, 120)
        srs = [pydicom.dcmread(f) for f in delivered if pydicom.dcmread(f, stop_before_pixels=True).Modality == SR_MODALITY]
        assert len(srs) == 1, [f.name for f in delivered]
        expected = sorted(f"{uid}: {why}" for uid, why in edited["reasons"].items())
        assert sorted(exclusion_texts(srs[0])) == expected
        evidence = {str(i.ReferencedSOPInstanceUID) for s in srs[0].CurrentRequestedProcedureEvidenceSequence
                    for se in s.ReferencedSeriesSequence for i in se.ReferencedSOPSequence}
        assert len(evidence) == SAGITTAL_COUNT and not evidence & set(edited["reasons"]), "evidence: the slices used"

        detail = requests.get(f"{node.http_url}/api/v1/series/{series}",
                              headers={"Authorization": f"Bearer {node.admin_token()}"}, timeout=30)
        assert detail.status_code == 200, detail.text
        body = detail.json()
        assert body["instances"] == SAGITTAL_COUNT + len(edited["paths"])
        assert {e["instance"]: e["reason"] for e in body["excluded_instances"]} == edited["reasons"]
        done = [a for a in body["analyses"] if a["state"] == "done"]
        assert len(done) == 1, body["analyses"]
        assert done[0]["result"]["slice"]["count"] == SAGITTAL_COUNT
        assert done[0]["result"]["excluded_instances"] == body["excluded_instances"]
        log = node.log()
        for uid, why in edited["reasons"].items():
            assert any("instance excluded from the analysis" in line and uid in line and why in line
                       for line in log.splitlines()), f"no log line for {uid}"
    finally:
        scp.stop()
