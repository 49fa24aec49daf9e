"""A real sagittal series compressed to JPEG 2000 by an independent toolkit (GDCM's ``gdcmconv --j2k``,
lossless, file by file) goes to a running node next to the classic uncompressed series (issue 16).
The node routes and analyses it with the classic series' points and metrics; its SR, key image and
Key Object Selection reference the JPEG 2000 instances and validate with dciodvfy."""
from __future__ import annotations

import subprocess
from pathlib import Path

import nodeproc
import pacs
from same_analysis import analysis_result, assert_dciodvfy_clean, assert_same_analysis, results_referencing

JPEG2000_LOSSLESS = "1.2.840.10008.1.2.4.90"


def gdcm_jpeg2000_copy(series_dir: Path, out_dir: Path) -> tuple[str, dict[str, str]]:
    """The series under ``out_dir``: a new Series Instance UID and new SOP Instance UIDs (written by
    pydicom into an uncompressed copy), then each file compressed by ``gdcmconv --j2k``. Returns the
    new series UID and {classic SOP Instance UID: JPEG 2000 copy's SOP Instance UID}."""
    import pydicom
    from pydicom.uid import generate_uid

    gdcmconv = nodeproc.require_tool("gdcmconv")
    out_dir.mkdir(parents=True)
    plain = out_dir / "plain.dcm"
    series, copies = generate_uid(), {}
    for f in nodeproc.dicom_files(series_dir):
        ds = pydicom.dcmread(f)
        copy = generate_uid()
        copies[str(ds.SOPInstanceUID)] = copy
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = copy
        ds.SeriesInstanceUID = series
        ds.save_as(plain, enforce_file_format=True)
        p = subprocess.run([gdcmconv, "--j2k", str(plain), str(out_dir / f.name)], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, f"gdcmconv --j2k {f.name}: {p.stdout}{p.stderr}"
    plain.unlink()
    return series, copies


def test_gdcmconv_jpeg2000_series_is_analysed_like_the_classic_series(node_factory, lumbar, tmp_path):
    scp = pacs.StoreSCP(tmp_path / "dest").start()
    try:
        node = node_factory(quiet_seconds=1.0, config={"results": {"destinations": [scp.peer]}})
        classic_files = nodeproc.dicom_files(lumbar[0].sagittal)
        _, classic_series = nodeproc.series_uids(lumbar[0].sagittal)
        j2k_series, copies = gdcm_jpeg2000_copy(lumbar[0].sagittal, tmp_path / "j2k")
        j2k_files = nodeproc.dicom_files(tmp_path / "j2k")
        assert {nodeproc.file_meta_of(f)[2] for f in j2k_files} == {JPEG2000_LOSSLESS}

        for files in (classic_files, j2k_files):
            r = nodeproc.send_files(node.port, files)
            assert len(r.acknowledged) == len(files), r

        want, got = analysis_result(node, classic_series), analysis_result(node, j2k_series)
        assert got["slice"]["sop_instance_uid"] == copies[want["slice"]["sop_instance_uid"]]
        assert_same_analysis(got, want)
        mine = results_referencing(scp, set(copies.values()))
        assert_dciodvfy_clean(path for path, _ in mine.values())
    finally:
        scp.stop()
