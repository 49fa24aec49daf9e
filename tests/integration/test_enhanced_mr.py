"""Enhanced multi-frame MR (issue 16): the real sagittal series, the same series packed by highdicom
into one Legacy Converted Enhanced MR Image, and into one Enhanced MR Image as the T2 echo beside a
larger proton-density echo, go to a running node with a destination (the enhanced ones sent with
storescu). Each enhanced instance is routed and analysed from its (T2) frames with the classic
series' points and metrics, and its SR, key image and Key Object Selection reference the analysed
frame (Referenced Frame Number); all three validate with dciodvfy. A copy of the enhanced instance
in the classic series (both forms in one series) is left out of its analysis with the reason."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nodeproc
import pacs
from same_analysis import (analysis_result, assert_dciodvfy_clean, assert_same_analysis, frame_numbers, image_references,
                           results_referencing)

TOOL = Path(__file__).resolve().parents[2] / "tools" / "make_legacy_enhanced_mr.py"
LEGACY_CONVERTED_ENHANCED_MR = "1.2.840.10008.5.1.4.1.1.4.4"
ENHANCED_MR = "1.2.840.10008.5.1.4.1.1.4.1"
# How the tool makes each enhanced form (its options), and the SOP class it gives.
FORMS = {"one-stack": ([], LEGACY_CONVERTED_ENHANCED_MR), "two-echoes": (["--two-echoes"], ENHANCED_MR)}


def legacy_converted(series_dir: Path, out: Path, *options: str) -> str:
    p = subprocess.run([sys.executable, str(TOOL), *options, str(series_dir), str(out)], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def test_enhanced_mr_forms_are_analysed_like_the_classic_series(node_factory, lumbar, tmp_path):
    """Two enhanced forms of the series: one stack (Legacy Converted Enhanced MR), and two echoes
    (Enhanced MR: a larger proton-density stack and the T2 stack, each frame's echo time in
    its MR Echo group). The T2 stack is the one routed and analysed. The classic series also gets a
    copy of the one-stack instance (both forms in one series): it is analysed from its single-frame
    instances, the enhanced copy left out with the reason, never interleaved with them."""
    import pydicom
    from pydicom.uid import generate_uid

    scp = pacs.StoreSCP(tmp_path / "dest").start()
    try:
        node = node_factory(quiet_seconds=1.0, config={"results": {"destinations": [scp.peer]}})
        classic_files = nodeproc.dicom_files(lumbar[0].sagittal)
        _, classic_series = nodeproc.series_uids(lumbar[0].sagittal)
        forms = {name: tmp_path / f"{name}.dcm" for name in FORMS}
        sops = {name: legacy_converted(lumbar[0].sagittal, path, *FORMS[name][0]) for name, path in forms.items()}

        r = nodeproc.send_files(node.port, classic_files)
        assert len(r.acknowledged) == len(classic_files), r
        # storescu's default presentation contexts lack the enhanced MR classes: -R proposes the files'.
        mixed = pydicom.dcmread(forms["one-stack"])
        mixed.SeriesInstanceUID = classic_series
        mixed.SOPInstanceUID = mixed.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        mixed.save_as(tmp_path / "mixed.dcm")
        pacs.storescu(node.port, [*forms.values(), tmp_path / "mixed.dcm"], options=["-R"])

        def with_the_mixed_instance() -> dict | None:
            result = analysis_result(node, classic_series)
            return result if any(e["instance"] == mixed.SOPInstanceUID for e in result["excluded_instances"] or []) else None

        want = nodeproc.wait_until(with_the_mixed_instance, 120, 0.2, "the classic series analysed with the enhanced copy")
        [excluded] = want["excluded_instances"]
        assert excluded["reason"].startswith("another form of the series was analysed"), excluded
        assert want["slice"]["count"] == len(classic_files) and "frame_number" not in want["slice"], want["slice"]
        for name, path in forms.items():
            check_enhanced_form(node, path, sops[name], FORMS[name][1], want, scp)
    finally:
        scp.stop()


def check_enhanced_form(node, path: Path, enhanced_sop: str, sop_class: str, want: dict, scp) -> None:
    """The enhanced instance at ``path`` was analysed like the classic series (``want``), its results
    reference the analysed frame and validate with dciodvfy."""
    import pydicom

    enhanced = pydicom.dcmread(path, stop_before_pixels=True)
    assert enhanced.SOPClassUID == sop_class
    got = analysis_result(node, str(enhanced.SeriesInstanceUID))
    assert got["slice"]["sop_instance_uid"] == enhanced_sop
    assert_same_analysis(got, want)
    frame = got["slice"]["frame_number"]
    # The analysed frame is the one converted from the classic series' analysed slice.
    source = enhanced.PerFrameFunctionalGroupsSequence[frame - 1].ConversionSourceAttributesSequence[0]
    assert source.ReferencedSOPInstanceUID == want["slice"]["sop_instance_uid"]
    mine = results_referencing(scp, {enhanced_sop})
    assert_dciodvfy_clean(path for path, _ in mine.values())

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
