"""Helpers for the tests (issue 16) that send one real series in another form (an enhanced multi-frame
instance, JPEG 2000 files made by another toolkit) next to the classic series, and check that the
node analyses both alike: the same slice, points within ``PX_TOL`` and metrics within ``METRIC_TOL``;
and readers for the image references of the results (SR, key image, Key Object Selection)."""
from __future__ import annotations

from pathlib import Path

import requests

import nodeproc
import pacs

PX_TOL = 0.5
METRIC_TOL = 1e-3
METRICS = ("peak_confidence", "entropy", "spatial_entropy")


def analysis_result(node, series: str, timeout: float = 240) -> dict:
    """The result of the analysis of the series' latest revision, once done (a series completed
    early — a sender slower than the quiet period — is analysed again when the rest arrives)."""
    def done() -> dict | None:
        detail = requests.get(f"{node.http_url}/api/v1/series/{series}",
                              headers={"Authorization": f"Bearer {node.admin_token()}"}, timeout=30)
        assert detail.status_code == 200, detail.text
        d = detail.json()
        if d["state"] != "complete":
            return None
        latest = [a for a in d["analyses"] if a["series_revision"] == d["revision"] and a["state"] == "done"]
        return latest[0]["result"] if latest else None

    return nodeproc.wait_until(done, timeout, 0.2, f"the analysis of series {series}'s latest revision")


def assert_same_analysis(got: dict, want: dict) -> None:
    """``got`` analysed the same slice position of a stack of the same size, with the same levels,
    points within ``PX_TOL`` and metrics within ``METRIC_TOL`` of ``want``."""
    for k in ("index", "count", "rows", "columns", "ordering"):
        assert got["slice"][k] == want["slice"][k], (k, got["slice"][k], want["slice"][k])
    assert set(got["levels"]) == set(want["levels"])
    for level, w in want["levels"].items():
        g = got["levels"][level]
        for m in METRICS:
            assert abs(g[m] - w[m]) <= METRIC_TOL, (level, m, g[m], w[m])
        for key in ("point_px", "point_mm"):
            assert (g[key] is None) == (w[key] is None), (level, key)
            if w[key] is not None:
                assert max(abs(a - b) for a, b in zip(g[key], w[key])) <= PX_TOL, (level, key, g[key], w[key])


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


def results_referencing(scp, sop_instance_uids: set[str], timeout: float = 240) -> dict:
    """{SOP Class UID: (path, data set)} of the results delivered to ``scp`` whose evidence or source
    images name one of ``sop_instance_uids``, once the SR, the key image and the KOS are all there."""
    import pydicom

    def references(ds) -> bool:
        evidence = [i for s in ds.get("CurrentRequestedProcedureEvidenceSequence", [])
                    for se in s.ReferencedSeriesSequence for i in se.ReferencedSOPSequence]
        return any(getattr(i, "ReferencedSOPInstanceUID", None) in sop_instance_uids
                   for i in evidence + list(ds.get("SourceImageSequence", [])))

    kinds = {pacs.COMPREHENSIVE_3D_SR, pacs.SECONDARY_CAPTURE, pacs.KEY_OBJECT_SELECTION}
    read: dict[Path, object] = {}

    def all_there() -> dict | None:
        mine = {}
        for path in scp.files():
            if path not in read:
                read[path] = pydicom.dcmread(path)
            if references(read[path]):
                mine[str(read[path].SOPClassUID)] = (path, read[path])
        return mine if set(mine) >= kinds else None

    mine = nodeproc.wait_until(all_there, timeout, 0.2, f"the results referencing {sorted(sop_instance_uids)[:1]}...")
    assert set(mine) == kinds, sorted(mine)
    return mine


def assert_dciodvfy_clean(paths) -> None:
    """dciodvfy reports no error on any of ``paths``."""
    from test_results import dciodvfy_errors

    for path in paths:
        errors = dciodvfy_errors(path)
        assert not errors, f"dciodvfy errors on {Path(path).name}:\n" + "\n".join(errors)
