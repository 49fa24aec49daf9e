"""Packs a classic single-frame MR series into one Legacy Converted Enhanced MR Image with highdicom
(an independent implementation of the functional groups), for the node's enhanced multi-frame tests.

usage: make_legacy_enhanced_mr.py SERIES_DIR OUTPUT.dcm [SOP_INSTANCE_UID]
Prints the new SOP Instance UID. The study and patient stay the source's; the series is new.
"""
import sys
import warnings
from pathlib import Path

import pydicom
from highdicom.legacy import LegacyConvertedEnhancedMRImage
from pydicom.uid import generate_uid


def main() -> None:
    source, output = Path(sys.argv[1]), sys.argv[2]
    sop = sys.argv[3] if len(sys.argv) > 3 else generate_uid()
    slices = [pydicom.dcmread(p) for p in sorted(source.glob("*.dcm"))]
    with warnings.catch_warnings():
        # highdicom warns about the source's one-component patient name; the value is kept as is.
        warnings.simplefilter("ignore", UserWarning)
        image = LegacyConvertedEnhancedMRImage(slices, series_instance_uid=generate_uid(),
                                               series_number=int(slices[0].SeriesNumber or 1),
                                               sop_instance_uid=sop, instance_number=1)
    image.save_as(output)
    print(sop)


if __name__ == "__main__":
    main()
