#!/usr/bin/env python3
"""Test images for the ingest benchmark.

Writes COUNT MR Image Storage instances, 512x512, 16 bit unsigned, explicit VR little endian
(~513 KB each), in SERIES series of one study, under OUT/sNN/IMnnnn.dcm.

Pixel content comes from the real sagittal T2 slices in
../shared/data/lumbar/dicom/FCS-IVD-11/01_T2_TSE_SAG (221x221), upsampled bilinearly to 512x512,
cycled through, with a little per-image noise so no two pixel buffers are identical. The header
keeps the source's MR attributes (sequence, orientation, ...) with fresh, deterministic UIDs and a
synthetic patient. If the source slices are absent, a generated anatomy-free pattern is used
instead. Either way the receivers store the data set as received, so the content only matters for
realism, not for the throughput measured.

The UIDs are derived from a fixed seed: a re-run writes the same instances (same size, same UIDs),
and a stamp file lets run.sh skip generation when the set is already there.
"""
import argparse
import glob
import os
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

SIZE = 512


def upsample(img: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of a 2-D array to size x size (numpy only)."""
    h, w = img.shape
    ys = np.linspace(0, h - 1, size)
    xs = np.linspace(0, w - 1, size)
    y0 = np.floor(ys).astype(int); y1 = np.minimum(y0 + 1, h - 1); fy = (ys - y0)[:, None]
    x0 = np.floor(xs).astype(int); x1 = np.minimum(x0 + 1, w - 1); fx = (xs - x0)[None, :]
    a = img.astype(np.float64)
    top = a[y0][:, x0] * (1 - fx) + a[y0][:, x1] * fx
    bot = a[y1][:, x0] * (1 - fx) + a[y1][:, x1] * fx
    return top * (1 - fy) + bot * fy


def load_sources(src_dir: str):
    files = sorted(glob.glob(os.path.join(src_dir, "*.dcm")))
    slices = []
    template = None
    for f in files:
        ds = pydicom.dcmread(f)
        px = ds.pixel_array
        if px.max() == px.min():  # blank edge slices add nothing
            continue
        slices.append(upsample(px, SIZE))
        if template is None:
            template = ds
    return template, slices


def synthetic_slices(n: int):
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    out = []
    for i in range(n):
        ph = 2 * np.pi * i / n
        img = 800 + 600 * np.sin(6 * np.pi * xx + ph) * np.cos(4 * np.pi * yy - ph)
        img *= np.exp(-((xx - 0.5) ** 2 + (yy - 0.5) ** 2) * 4)
        out.append(img)
    return out


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--series", type=int, default=4)
    p.add_argument("--source", default="")
    p.add_argument("--seed", type=int, default=20240602)
    a = p.parse_args()

    stamp = os.path.join(a.out, f".complete-{a.count}-{a.series}-{a.seed}")
    if os.path.exists(stamp):
        print(f"generate: {a.count} images already in {a.out}")
        return 0

    template, slices = (None, [])
    if a.source and os.path.isdir(a.source):
        template, slices = load_sources(a.source)
    content = "real sagittal T2 slices (FCS-IVD-11), upsampled to 512x512"
    if not slices:
        slices = synthetic_slices(64)
        content = "synthetic pattern (source slices not found)"
    rng = np.random.default_rng(a.seed)
    # Scale into a typical MR range (12 bits used of 16).
    hi = max(float(s.max()) for s in slices)
    slices = [s * (3000.0 / hi) for s in slices]

    seed = str(a.seed)
    study_uid = generate_uid(entropy_srcs=[seed, "study"])
    frame_uid = generate_uid(entropy_srcs=[seed, "frame"])
    per_series = [a.count // a.series + (1 if i < a.count % a.series else 0) for i in range(a.series)]
    n = 0
    for s in range(a.series):
        series_uid = generate_uid(entropy_srcs=[seed, "series", str(s)])
        sdir = os.path.join(a.out, f"s{s + 1:02d}")
        os.makedirs(sdir, exist_ok=True)
        for k in range(per_series[s]):
            sop_uid = generate_uid(entropy_srcs=[seed, "sop", str(s), str(k)])
            base = slices[k % len(slices)]
            noise = rng.normal(0, 8, base.shape)
            px = np.clip(base + noise, 0, 4095).astype(np.uint16)

            ds = Dataset()
            if template is not None:
                for elem in template:
                    if elem.tag.group in (0x0008, 0x0018, 0x0020, 0x0028) and elem.keyword not in (
                            "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID",
                            "Rows", "Columns", "PixelSpacing", "ImagePositionPatient", "InstanceNumber",
                            "SeriesNumber", "SeriesDescription", "ImageComments"):
                        ds.add(elem)
            ds.SOPClassUID = MRImageStorage
            ds.SOPInstanceUID = sop_uid
            ds.Modality = "MR"
            ds.StudyInstanceUID = study_uid
            ds.SeriesInstanceUID = series_uid
            ds.FrameOfReferenceUID = frame_uid
            ds.StudyID = "BENCH"
            ds.StudyDate = "20240602"
            ds.StudyTime = "120000"
            ds.AccessionNumber = "BENCH0001"
            ds.PatientName = "BENCH^INGEST"
            ds.PatientID = "BENCH-INGEST"
            ds.PatientBirthDate = ""
            ds.PatientSex = "O"
            ds.SeriesNumber = s + 1
            ds.SeriesDescription = f"BENCH T2 TSE SAG {s + 1}"
            ds.InstanceNumber = k + 1
            if "ImageOrientationPatient" not in ds:
                ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
            ds.ImagePositionPatient = [round(-40 + 0.2 * k, 3), -160.0, 160.0]
            ds.SliceThickness = "4"
            ds.PixelSpacing = [0.625, 0.625]
            ds.SamplesPerPixel = 1
            ds.PhotometricInterpretation = "MONOCHROME2"
            ds.Rows = SIZE
            ds.Columns = SIZE
            ds.BitsAllocated = 16
            ds.BitsStored = 16
            ds.HighBit = 15
            ds.PixelRepresentation = 0
            ds.PixelData = px.tobytes()

            meta = FileMetaDataset()
            meta.MediaStorageSOPClassUID = MRImageStorage
            meta.MediaStorageSOPInstanceUID = sop_uid
            meta.TransferSyntaxUID = ExplicitVRLittleEndian
            meta.ImplementationClassUID = "1.2.826.0.1.3680043.8.498.1"
            ds.file_meta = meta
            pydicom.dcmwrite(os.path.join(sdir, f"IM{k + 1:04d}.dcm"), ds, enforce_file_format=True)
            n += 1
    with open(stamp, "w") as f:
        f.write(content + "\n")
    print(f"generate: wrote {n} images in {a.series} series to {a.out} ({content})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
