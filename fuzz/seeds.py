"""Seed corpora for the fuzz harnesses, written at run time under var/ (never committed: the dataset
seeds carry the shared studies' headers and pixels).

    seeds.py --lumbar ../shared/data/lumbar/dicom --out var/fuzz/seeds

``OUT/dataset/``: DICOM files as the node receives them: two real slices of a shared study as they
are (a sagittal and an axial one), a small crop of the sagittal slice (its real header) in every
transfer syntax the node accepts (DCMTK's dcmconv, dcmcjpeg, dcmcjpls, dcmcrle convert it), and a few
synthetic images for the decode paths the real data lacks (signed 12-bit with a rescale, two frames,
8-bit RGB in both planar configurations, text in ISO_IR 100), and the inputs of fixed findings
(``regression-*``).

``OUT/association/``: what a storage SCU sends on one connection, PDU by PDU, encoded by pynetdicom:
A-ASSOCIATE-RQ, then C-ECHO-RQ, C-STORE-RQ (received or refused by the harness: odd and even message
IDs), a C-FIND-RQ the SCP does not offer, an A-ABORT-RQ, and A-RELEASE-RQ; the C-STORE data sets are
the crops above, uncompressed and JPEG-LS, in one P-DATA-TF or in many fragments.
"""
from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEGLSLossless, MRImageStorage,
                         SecondaryCaptureImageStorage, generate_uid)
from pynetdicom.dimse_messages import C_ECHO_RQ, C_FIND_RQ, C_STORE_RQ
from pynetdicom.dimse_primitives import C_ECHO, C_FIND, C_STORE
from pynetdicom.dsutils import encode
from pynetdicom.pdu import A_ABORT_RQ, A_ASSOCIATE_RQ, A_RELEASE_RQ, P_DATA_TF
from pynetdicom.pdu_primitives import (A_ABORT, A_ASSOCIATE, A_RELEASE, ImplementationClassUIDNotification,
                                       MaximumLengthNotification)
from pynetdicom.presentation import build_context
from pynetdicom.sop_class import PatientRootQueryRetrieveInformationModelFind, Verification

CALLED_AE = "FUZZSCP"  # the association harness's AE title (fuzz/association_fuzzer.cc)
CROP = 16              # rows and columns of the cropped slice: small inputs fuzz faster
SAGITTAL, AXIAL = "01_T2_TSE_SAG", "02_T2_AX_REFORMAT"

# Transfer syntax variants of the crop: file name → DCMTK command (input and output appended).
CONVERSIONS = {
    "crop-implicit.dcm": ["dcmconv", "+ti"],
    "crop-big-endian.dcm": ["dcmconv", "+tb"],
    "crop-deflated.dcm": ["dcmconv", "+td"],
    "crop-jpeg-lossless-sv1.dcm": ["dcmcjpeg", "+e1"],
    "crop-jpeg-lossless.dcm": ["dcmcjpeg", "+el"],
    "crop-jpeg-extended-12bit.dcm": ["dcmcjpeg", "+ee"],
    "crop-jpeg-ls-lossless.dcm": ["dcmcjpls", "+el"],
    "crop-jpeg-ls-near-lossless.dcm": ["dcmcjpls", "+en"],
    "crop-rle.dcm": ["dcmcrle"],
}


def write_part10(ds: Dataset, path: Path, syntax: str = ExplicitVRLittleEndian) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = syntax
    ds.file_meta = meta
    ds.save_as(path, enforce_file_format=True)


def crop(source: Path) -> Dataset:
    """The slice's real header, its pixels cut to CROP x CROP from the centre, 12 bits stored (the
    values fit) so that the 12-bit JPEG process can encode it too."""
    ds = pydicom.dcmread(source)
    pixels = ds.pixel_array
    r0, c0 = (pixels.shape[0] - CROP) // 2, (pixels.shape[1] - CROP) // 2
    cut = np.ascontiguousarray(pixels[r0:r0 + CROP, c0:c0 + CROP]).astype(np.uint16)
    if cut.max() >= 1 << 12:
        raise SystemExit(f"{source}: pixel values above 12 bits; pick another slice")
    ds.Rows = ds.Columns = CROP
    ds.BitsStored, ds.HighBit = 12, 11
    ds.PixelData = cut.tobytes()
    ds.SOPInstanceUID = generate_uid()
    return ds


def synthetic(sop_class: str, rows: int, columns: int, **attributes) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.PatientID, ds.SeriesNumber, ds.InstanceNumber = "MR", "FUZZ", 1, 1
    ds.Rows, ds.Columns = rows, columns
    for k, v in attributes.items():
        setattr(ds, k, v)
    return ds


def synthetic_images(out: Path) -> None:
    rng = np.random.default_rng(15)
    signed = synthetic(MRImageStorage, 8, 8, SamplesPerPixel=1, PhotometricInterpretation="MONOCHROME2",
                       BitsAllocated=16, BitsStored=12, HighBit=11, PixelRepresentation=1,
                       RescaleSlope="2.5", RescaleIntercept="-1024")
    signed.PixelData = rng.integers(-2048, 2047, (8, 8), dtype=np.int16).astype("<i2").tobytes()
    write_part10(signed, out / "synthetic-signed-12bit-rescale.dcm")

    frames = synthetic(MRImageStorage, 8, 8, SamplesPerPixel=1, PhotometricInterpretation="MONOCHROME2",
                       BitsAllocated=8, BitsStored=8, HighBit=7, PixelRepresentation=0, NumberOfFrames=2)
    frames.PixelData = rng.integers(0, 255, (2, 8, 8), dtype=np.uint8).tobytes()
    write_part10(frames, out / "synthetic-two-frames.dcm")

    rgb = rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)
    for planar in (0, 1):
        ds = synthetic(SecondaryCaptureImageStorage, 8, 8, SamplesPerPixel=3, PhotometricInterpretation="RGB",
                       BitsAllocated=8, BitsStored=8, HighBit=7, PixelRepresentation=0, PlanarConfiguration=planar)
        ds.PixelData = (rgb if planar == 0 else rgb.transpose(2, 0, 1)).tobytes()
        write_part10(ds, out / f"synthetic-rgb-planar{planar}.dcm")

    latin1 = synthetic(MRImageStorage, 0, 0, SpecificCharacterSet="ISO_IR 100")
    del latin1.Rows, latin1.Columns
    latin1.SeriesDescription = "Lendenwirbelsäule"
    latin1.ProtocolName = "T2 Sagittal Ç"
    write_part10(latin1, out / "synthetic-latin1-no-pixels.dcm")


def regressions(cropped: Path, out: Path) -> None:
    """Inputs of fixed findings, run at the start of every fuzz run (so in the suite's bounded run)."""
    # A 2 KB file declaring 65535 x 65535 pixels: callers sized their decode buffer from the header
    # (17 GB of floats) before the shim found the pixel data short; image info now reports no image.
    huge = pydicom.dcmread(cropped)
    huge.Rows = huge.Columns = 65535
    huge.save_as(out / "regression-dimensions-beyond-pixel-data.dcm")
    # The same without SamplesPerPixel and BitsAllocated, which the size check must not read as zero bytes.
    huge.SamplesPerPixel = 0
    del huge.BitsAllocated
    huge.save_as(out / "regression-dimensions-beyond-pixel-data-no-sizes.dcm")


def dataset_seeds(study: Path, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    sagittal = sorted((study / SAGITTAL).glob("*.dcm"))
    middle = sagittal[len(sagittal) // 2]
    shutil.copyfile(middle, out / "real-sagittal.dcm")
    shutil.copyfile(sorted((study / AXIAL).glob("*.dcm"))[0], out / "real-axial.dcm")
    cropped = out / "crop-explicit.dcm"
    write_part10(crop(middle), cropped)
    for name, command in CONVERSIONS.items():
        subprocess.run([*command, str(cropped), str(out / name)], check=True)
    synthetic_images(out)
    regressions(cropped, out)
    return cropped


def associate_rq(contexts: list[tuple[str, list[str]]], called: str = CALLED_AE) -> bytes:
    a = A_ASSOCIATE()
    a.application_context_name = "1.2.840.10008.3.1.1.1"
    a.calling_ae_title, a.called_ae_title = "FUZZSCU", called
    definitions = []
    for i, (abstract, syntaxes) in enumerate(contexts):
        cx = build_context(abstract, syntaxes)
        cx.context_id = 2 * i + 1
        definitions.append(cx)
    a.presentation_context_definition_list = definitions
    length = MaximumLengthNotification()
    length.maximum_length_received = 16384
    implementation = ImplementationClassUIDNotification()
    implementation.implementation_class_uid = "1.2.826.0.1.3680043.10.1561.1"
    a.user_information = [length, implementation]
    pdu = A_ASSOCIATE_RQ()
    pdu.from_primitive(a)
    return pdu.encode()


def p_data(message, primitive, context_id: int, max_pdu: int) -> bytes:
    message.primitive_to_message(primitive)
    out = b""
    for data in message.encode_msg(context_id, max_pdu):
        pdu = P_DATA_TF()
        pdu.from_primitive(data)
        out += pdu.encode()
    return out


def echo(context_id: int, message_id: int = 1) -> bytes:
    rq = C_ECHO()
    rq.MessageID, rq.AffectedSOPClassUID = message_id, Verification
    return p_data(C_ECHO_RQ(), rq, context_id, 16384)


def store(ds: Dataset, syntax: str, context_id: int, message_id: int, max_pdu: int = 16384) -> bytes:
    rq = C_STORE()
    rq.MessageID, rq.Priority = message_id, 0
    rq.AffectedSOPClassUID, rq.AffectedSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
    ds = ds.copy()
    if hasattr(ds, "file_meta"):
        del ds.file_meta
    rq.DataSet = io.BytesIO(encode(ds, syntax == ImplicitVRLittleEndian, True))
    return p_data(C_STORE_RQ(), rq, context_id, max_pdu)


def find(context_id: int) -> bytes:
    identifier = Dataset()
    identifier.QueryRetrieveLevel, identifier.PatientID = "PATIENT", "*"
    rq = C_FIND()
    rq.MessageID, rq.Priority = 1, 0
    rq.AffectedSOPClassUID = PatientRootQueryRetrieveInformationModelFind
    rq.Identifier = io.BytesIO(encode(identifier, True, True))
    return p_data(C_FIND_RQ(), rq, context_id, 16384)


def release() -> bytes:
    pdu = A_RELEASE_RQ()
    pdu.from_primitive(A_RELEASE())
    return pdu.encode()


def abort() -> bytes:
    primitive = A_ABORT()
    primitive.abort_source = 0
    pdu = A_ABORT_RQ()
    pdu.from_primitive(primitive)
    return pdu.encode()


def association_seeds(cropped: Path, jpeg_ls: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    image = pydicom.dcmread(cropped)
    compressed = pydicom.dcmread(jpeg_ls)
    verification = (Verification, [ImplicitVRLittleEndian])
    mr = (MRImageStorage, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
    mr_jpeg_ls = (MRImageStorage, [JPEGLSLossless])
    find_context = (PatientRootQueryRetrieveInformationModelFind, [ImplicitVRLittleEndian])
    seeds = {
        "echo": associate_rq([verification]) + echo(1) + release(),
        "store-received": associate_rq([mr]) + store(image, ExplicitVRLittleEndian, 1, 1) + release(),
        "store-refused": associate_rq([mr]) + store(image, ExplicitVRLittleEndian, 1, 2) + release(),
        "store-fragmented-implicit": associate_rq([(MRImageStorage, [ImplicitVRLittleEndian])])
        + store(image, ImplicitVRLittleEndian, 1, 1, max_pdu=256) + release(),
        "store-jpeg-ls": associate_rq([mr_jpeg_ls]) + store(compressed, JPEGLSLossless, 1, 1) + release(),
        "echo-then-two-stores": associate_rq([verification, mr]) + echo(1) + store(image, ExplicitVRLittleEndian, 3, 3)
        + store(image, ExplicitVRLittleEndian, 3, 4) + release(),
        "called-ae-rejected": associate_rq([verification], called="SOMEONEELSE") + release(),
        "abort": associate_rq([verification]) + abort(),
        "unsupported-c-find": associate_rq([verification, find_context]) + find(3) + release(),
    }
    for name, data in seeds.items():
        (out / f"{name}.bin").write_bytes(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lumbar", type=Path, required=True, help="the shared studies (…/shared/data/lumbar/dicom)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    studies = sorted(p for p in args.lumbar.iterdir() if (p / SAGITTAL).is_dir())
    if not studies:
        raise SystemExit(f"no study with a {SAGITTAL} series under {args.lumbar}")
    # Written beside, then moved into place: a half-written corpus is never taken for a whole one.
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=args.out.parent, prefix=args.out.name + "."))
    try:
        cropped = dataset_seeds(studies[0], tmp / "dataset")
        association_seeds(cropped, tmp / "dataset" / "crop-jpeg-ls-lossless.dcm", tmp / "association")
        shutil.rmtree(args.out, ignore_errors=True)
        tmp.rename(args.out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


if __name__ == "__main__":
    main()
