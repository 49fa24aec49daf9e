"""Enhanced multi-frame MR (issue 16): the real sagittal series and the same series packed by
highdicom into one Legacy Converted Enhanced MR Image (sent with storescu) both go to a running node
with a destination. The enhanced instance is routed and analysed from its frames with the classic
series' points and metrics, and its SR, key image and Key Object Selection reference the analysed
frame (Referenced Frame Number); all three validate with dciodvfy."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests

import nodeproc
import pacs
from test_results import dciodvfy_errors

TOOL = Path(__file__).resolve().parents[2] / "tools" / "make_legacy_enhanced_mr.py"
LEGACY_CONVERTED_ENHANCED_MR = "1.2.840.10008.5.1.4.1.1.4.4"
PX_TOL = 0.5
METRIC_TOL = 1e-3
METRICS = ("peak_confidence", "entropy", "spatial_entropy")


def legacy_converted(series_dir: Path, out: Path) -> str:
    p = subprocess.run([sys.executable, str(TOOL), str(series_dir), str(out)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def image_references(items) -> list:
    """Every IMAGE content item under ``items`` (SCOORDs' selected images included)."""
    out = []
    for item in items:
        if item.ValueType == "IMAGE":
            out.append(item)
        if "ContentSequence" in item:
            out.extend(image_references(item.ContentSequence))
    return out


def frame_numbers(reference) -> list[int]:
    """ReferencedFrameNumber (IS, one or more values) of a reference item; [] when absent."""
    value = reference.get("ReferencedFrameNumber")
    if value is None:
        return []
    from pydicom.multival import MultiValue

    return [int(v) for v in value] if isinstance(value, MultiValue) else [int(value)]


def test_legacy_converted_enhanced_mr_is_analysed_like_the_classic_series(node_factory, lumbar, tmp_path):
    import pydicom

    scp = pacs.StoreSCP(tmp_path / "dest").start()
    try:
        node = node_factory(quiet_seconds=1.0, config={"results": {"destinations": [scp.peer]}})
        classic_files = nodeproc.dicom_files(lumbar[0].sagittal)
        _, classic_series = nodeproc.series_uids(lumbar[0].sagittal)
        enhanced_path = tmp_path / "enhanced.dcm"
        enhanced_sop = legacy_converted(lumbar[0].sagittal, enhanced_path)
        enhanced = pydicom.dcmread(enhanced_path, stop_before_pixels=True)
        assert enhanced.SOPClassUID == LEGACY_CONVERTED_ENHANCED_MR

        r = nodeproc.send_files(node.port, classic_files)
        assert len(r.acknowledged) == len(classic_files), r
        # storescu's default presentation contexts lack Legacy Converted Enhanced MR: -R proposes the file's.
        pacs.storescu(node.port, [enhanced_path], options=["-R"])
        delivered = scp.wait_files(2 * pacs.PER_ANALYSIS, 180)

        def result(series: str) -> dict:
            detail = requests.get(f"{node.http_url}/api/v1/series/{series}",
                                  headers={"Authorization": f"Bearer {node.admin_token()}"}, timeout=30)
            assert detail.status_code == 200, detail.text
            [done] = [a for a in detail.json()["analyses"] if a["state"] == "done"]
            return done["result"]

        want, got = result(classic_series), result(str(enhanced.SeriesInstanceUID))
        assert got["slice"]["sop_instance_uid"] == enhanced_sop
        for k in ("index", "count", "rows", "columns", "ordering"):
            assert got["slice"][k] == want["slice"][k], k
        frame = got["slice"]["frame_number"]
        # The analysed frame is the one converted from the classic series' analysed slice.
        source = enhanced.PerFrameFunctionalGroupsSequence[frame - 1].ConversionSourceAttributesSequence[0]
        assert source.ReferencedSOPInstanceUID == want["slice"]["sop_instance_uid"]
        assert set(got["levels"]) == set(want["levels"])
        for level, w in want["levels"].items():
            g = got["levels"][level]
            for m in METRICS:
                assert abs(g[m] - w[m]) <= METRIC_TOL, (level, m, g[m], w[m])
            for key in ("point_px", "point_mm"):
                assert (g[key] is None) == (w[key] is None), (level, key)
                if w[key] is not None:
                    assert max(abs(a - b) for a, b in zip(g[key], w[key])) <= PX_TOL, (level, key, g[key], w[key])

        def references_enhanced(ds) -> bool:
            return any(getattr(i, "ReferencedSOPInstanceUID", None) == enhanced_sop
                       for s in ds.get("CurrentRequestedProcedureEvidenceSequence", [])
                       for se in s.ReferencedSeriesSequence for i in se.ReferencedSOPSequence) or \
                any(getattr(i, "ReferencedSOPInstanceUID", None) == enhanced_sop for i in ds.get("SourceImageSequence", []))

        mine = {}
        for path in delivered:
            ds = pydicom.dcmread(path)
            if references_enhanced(ds):
                mine[str(ds.SOPClassUID)] = (path, ds)
        assert set(mine) == {pacs.COMPREHENSIVE_3D_SR, pacs.SECONDARY_CAPTURE, pacs.KEY_OBJECT_SELECTION}, sorted(mine)

        for path, _ in mine.values():
            errors = dciodvfy_errors(path)
            assert not errors, f"dciodvfy errors on {path.name}:\n" + "\n".join(errors)

        _, sr = mine[pacs.COMPREHENSIVE_3D_SR]
        refs = [i.ReferencedSOPSequence[0] for i in image_references(sr.ContentSequence)]
        analysed = [ref for ref in refs if ref.ReferencedSOPInstanceUID == enhanced_sop]
        # Each point's image names the analysed frame; the image library entry (TID 1601, written by
        # DCMTK from the instance's header) may name the instance as a whole.
        assert any(frame_numbers(ref) == [frame] for ref in analysed), analysed
        assert all(frame_numbers(ref) in ([frame], []) for ref in analysed), analysed

        _, ki = mine[pacs.SECONDARY_CAPTURE]
        [src] = ki.SourceImageSequence
        assert src.ReferencedSOPInstanceUID == enhanced_sop and frame_numbers(src) == [frame]

        _, kos = mine[pacs.KEY_OBJECT_SELECTION]
        [key] = [i.ReferencedSOPSequence[0] for i in image_references(kos.ContentSequence)
                 if i.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == enhanced_sop]
        assert frame_numbers(key) == [frame]
    finally:
        scp.stop()
