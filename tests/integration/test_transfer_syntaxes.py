"""Each accepted transfer syntax, produced by DCMTK's own converters from a real slice and sent by
pynetdicom proposing only that syntax: success, and the stored file holds the very bytes sent."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import jpeg2000
import nodeproc

# (transfer syntax UID, name, converter command (input, output appended), bits of the input)
CASES = [
    ("1.2.840.10008.1.2", "implicit-le", ["dcmconv", "+ti"], 16),
    ("1.2.840.10008.1.2.1", "explicit-le", ["dcmconv", "+te"], 16),
    ("1.2.840.10008.1.2.2", "explicit-be", ["dcmconv", "+tb"], 16),
    ("1.2.840.10008.1.2.1.99", "deflated", ["dcmconv", "+td"], 16),
    ("1.2.840.10008.1.2.5", "rle", ["dcmcrle"], 16),
    ("1.2.840.10008.1.2.4.80", "jpeg-ls-lossless", ["dcmcjpls", "+el"], 16),
    ("1.2.840.10008.1.2.4.81", "jpeg-ls-near-lossless", ["dcmcjpls", "+en"], 16),
    ("1.2.840.10008.1.2.4.57", "jpeg-lossless", ["dcmcjpeg", "+el"], 16),
    ("1.2.840.10008.1.2.4.70", "jpeg-lossless-sv1", ["dcmcjpeg", "+e1"], 16),
    ("1.2.840.10008.1.2.4.51", "jpeg-extended-12bit", ["dcmcjpeg", "+ee"], 12),
    ("1.2.840.10008.1.2.4.50", "jpeg-baseline-8bit", ["dcmcjpeg", "+eb"], 8),
    # JPEG 2000 by OpenJPEG's encoder (DCMTK 3.6.7 has none). HTJ2K is not accepted (UID.swift says why).
    *[(jpeg2000.ENCODINGS[kind][0], kind, [sys.executable, str(jpeg2000.__file__), kind], 16)
      for kind in ("j2k-lossless", "j2k-lossy")],
]


@pytest.fixture(scope="module")
def ts_node(tmp_path_factory):
    db = nodeproc.TestDatabase()
    node = nodeproc.Node(tmp_path_factory.mktemp("ts") / "data", db.url)
    try:
        node.start()
        yield node
    finally:
        node.stop()
        db.drop()


@pytest.fixture(scope="module")
def series_uid():
    from pydicom.uid import generate_uid

    return generate_uid()


def make_input(source: Path, bits: int, series_uid: str, out: Path) -> None:
    """An explicit-LE copy of a real slice with fresh SOP instance UID (and the bit depth a lossy
    JPEG process needs: 12 for extended, 8 for baseline)."""
    import numpy as np
    import pydicom
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = pydicom.dcmread(source)
    ds.SeriesInstanceUID = series_uid
    ds.SeriesDescription = "TS test"
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    if bits != 16:
        a = ds.pixel_array.astype(np.float64)
        scaled = np.round(a / max(a.max(), 1) * (2 ** bits - 1))
        dtype = np.uint8 if bits == 8 else np.uint16
        ds.BitsAllocated = 8 if bits == 8 else 16
        ds.BitsStored = bits
        ds.HighBit = bits - 1
        ds.PixelRepresentation = 0
        ds.PixelData = scaled.astype(dtype).tobytes()
        ds["PixelData"].VR = "OB" if bits == 8 else "OW"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(out, enforce_file_format=True)


@pytest.mark.parametrize("ts,name,converter,bits", CASES, ids=[c[1] for c in CASES])
def test_transfer_syntax_stored_as_received(ts_node, lumbar, series_uid, tmp_path, ts, name, converter, bits):
    source = nodeproc.dicom_files(lumbar[0].sagittal)[30]
    plain = tmp_path / "plain.dcm"
    make_input(source, bits, series_uid, plain)
    sent = tmp_path / f"{name}.dcm"
    tool = nodeproc.require_tool(converter[0])
    p = subprocess.run([tool, *converter[1:], str(plain), str(sent)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"{' '.join(converter)} failed: {p.stderr}"
    if ts == "1.2.840.10008.1.2.1.99" and len(nodeproc.dataset_bytes(sent)) % 2:
        # dcmconv writes the deflated stream unpadded; PS3.5 A.5 pads it to even length with one NUL
        # byte (pydicom does), and PS3.7 Annex F forbids odd PDV fragments on the wire. The odd
        # stream itself is covered in test_bad_input.py.
        with open(sent, "ab") as f:
            f.write(b"\0")
    sop_class, sop, sent_ts = nodeproc.file_meta_of(sent)
    assert sent_ts == ts, f"{' '.join(converter)} produced {sent_ts}, not {ts} (test set-up)"

    result = nodeproc.send_files(ts_node.port, [sent], transfer_syntaxes=[ts])
    assert not result.errors, result
    assert result.statuses == {sent: nodeproc.SUCCESS}, result

    study, series, _ = nodeproc.read_uids(sent)
    stored = ts_node.instance_path(study, series, sop)
    assert stored.is_file(), f"no spool file at {stored}"
    assert nodeproc.file_meta_of(stored) == (sop_class, sop, ts), "stored meta header must name the received syntax"
    got, want = nodeproc.dataset_bytes(stored), nodeproc.dataset_bytes(sent)
    assert len(got) == len(want), f"stored data set is {len(got)} bytes, sent {len(want)}"
    assert got == want, "stored data set bytes differ from the bytes sent"

    indexed = nodeproc.wait_until(
        lambda: nodeproc.run_psql(ts_node.database_url,
                                  f"select transfer_syntax_uid from instances where sop_instance_uid = '{sop}'").strip(),
        timeout=15, what="the instance to be indexed")
    assert indexed == ts
