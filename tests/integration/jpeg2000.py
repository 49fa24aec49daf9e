"""JPEG 2000 and HTJ2K copies of a monochrome DICOM file, made by independent encoders (OpenJPEG's
opj_compress, OpenJPH's ojph_compress) and wrapped by pydicom as encapsulated Pixel Data.

    python jpeg2000.py KIND INPUT OUTPUT     (KIND: one of ENCODINGS)

Used by the Swift unit tests (DicomDatasetTests) and the integration tests."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# kind: (transfer syntax UID, encoder command, the encoder's own decoder: input and output appended by
# _run(); lossy)
ENCODINGS = {
    "j2k-lossless": ("1.2.840.10008.1.2.4.90", ["opj_compress"], ["opj_decompress"], False),
    # Rate 20:1 (reversible 5/3 wavelet, truncated layers): lossy.
    "j2k-lossy": ("1.2.840.10008.1.2.4.91", ["opj_compress", "-r", "20"], ["opj_decompress"], True),
    "htj2k-lossless": ("1.2.840.10008.1.2.4.201", ["ojph_compress", "-reversible", "true"], ["ojph_expand"], False),
    # Irreversible 9/7 wavelet, quantization step 1/2^12 of the dynamic range.
    "htj2k-lossy": ("1.2.840.10008.1.2.4.203", ["ojph_compress", "-qstep", "0.000244"], ["ojph_expand"], True),
}


def _run(command: list[str], pgm: Path, out: Path) -> bytes:
    tool = shutil.which(command[0])
    if tool is None:
        raise RuntimeError(f"{command[0]} not found (scripts/bootstrap.sh installs it)")
    p = subprocess.run([tool, *command[1:], "-i", str(pgm), "-o", str(out)], capture_output=True, text=True, timeout=60)
    if p.returncode != 0 or not out.is_file():
        raise RuntimeError(f"{' '.join(command)} failed: {p.stdout}{p.stderr}")
    return out.read_bytes()


def _pgm(frame, path: Path) -> Path:
    path.write_bytes(b"P5\n%d %d\n65535\n" % (frame.shape[1], frame.shape[0]) + frame.astype(">u2").tobytes())
    return path


def _pgm_pixels(data: bytes, rows: int, columns: int):
    """The 16-bit samples of a binary PGM (they end the file; headers may hold comments)."""
    import numpy as np

    return np.frombuffer(data[-rows * columns * 2:], ">u2").reshape(rows, columns)


def compress(source: Path, out: Path, kind: str) -> None:
    """Writes `out`: `source` with every frame encoded by the KIND encoder, one fragment per frame;
    for a lossy KIND also `out` + ".reference": the frames as the encoder's own decoder (opj_decompress,
    ojph_expand) decodes them, little-endian 16-bit samples, what a decoder of the node must match."""
    import numpy as np
    import pydicom
    from pydicom.encaps import encapsulate

    uid, command, decoder, lossy = ENCODINGS[kind]
    ds = pydicom.dcmread(source)
    if ds.SamplesPerPixel != 1 or ds.BitsAllocated != 16 or ds.PixelRepresentation != 0:
        raise ValueError(f"{source}: only unsigned 16-bit monochrome images are supported by this helper")
    frames = ds.pixel_array.reshape(-1, ds.Rows, ds.Columns)
    fragments, decoded = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i, frame in enumerate(frames):
            codestream = Path(tmp) / f"{i}.j2c"
            _run(command, _pgm(frame, Path(tmp) / f"{i}.pgm"), codestream)
            fragments.append(codestream.read_bytes())
            if lossy:
                decoded.append(_pgm_pixels(_run(decoder, codestream, Path(tmp) / f"{i}.decoded.pgm"), ds.Rows, ds.Columns))
    if lossy:
        Path(str(out) + ".reference").write_bytes(np.stack(decoded).astype("<u2").tobytes())
    ds.PixelData = encapsulate(fragments)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    if lossy:
        ds.LossyImageCompression = "01"
        ds.LossyImageCompressionMethod = "ISO_15444_15" if kind.startswith("htj2k") else "ISO_15444_1"
        ds.LossyImageCompressionRatio = f"{frames.nbytes / sum(len(f) for f in fragments):.2f}"[:16]
    ds.file_meta.TransferSyntaxUID = uid
    ds.save_as(out, enforce_file_format=True)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ENCODINGS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(ENCODINGS)}}} INPUT OUTPUT")
    compress(Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[1])
