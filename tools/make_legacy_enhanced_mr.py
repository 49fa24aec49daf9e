"""Packs a classic single-frame MR series into one Legacy Converted Enhanced MR Image with highdicom
(an independent implementation of the functional groups), for the node's enhanced multi-frame tests.

usage: make_legacy_enhanced_mr.py [--two-echoes] SERIES_DIR OUTPUT.dcm [SOP_INSTANCE_UID]
Prints the new SOP Instance UID. The study and patient stay the source's; the series is new.

--two-echoes: the instance holds two stacks, as a dual-echo acquisition does: a proton-density echo
(TE 20 ms, StackID 1) of the series' slices plus one more — the larger stack — and the series itself
as the T2 echo (TE 100 ms, StackID 2), frames in highdicom's order. Each frame's MR Echo functional group gives its
EffectiveEchoTime and the shared MR Timing and Related Parameters group the TR (4000 ms). The
instance is then labelled Enhanced MR Image Storage, as a scanner's dual-echo instance is: it holds
the functional groups the node reads (not every module that IOD requires, e.g. MR Image Frame Type).
"""
import argparse
import warnings
from pathlib import Path

import pydicom
from highdicom.legacy import LegacyConvertedEnhancedMRImage
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

# (StackID, EffectiveEchoTime in ms) of the two echoes of --two-echoes; TR shared.
PROTON_DENSITY, T2 = ("1", 20.0), ("2", 100.0)
REPETITION_TIME = 4000.0
ENHANCED_MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4.1"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--two-echoes", action="store_true")
    parser.add_argument("source", type=Path)
    parser.add_argument("output")
    parser.add_argument("sop", nargs="?", default=None)
    args = parser.parse_args()
    sop = args.sop or generate_uid()
    slices = [pydicom.dcmread(p) for p in sorted(args.source.glob("*.dcm"))]
    # Each source instance's echo, by its SOP Instance UID: highdicom orders the frames its own way.
    echoes = {str(ds.SOPInstanceUID): T2 for ds in slices}
    if args.two_echoes:
        short = [pydicom.dcmread(p) for p in sorted(args.source.glob("*.dcm"))]
        short.append(pydicom.dcmread(sorted(args.source.glob("*.dcm"))[0]))
        for ds in short:
            ds.SOPInstanceUID = generate_uid()
        slices = short + slices
        echoes.update({str(ds.SOPInstanceUID): PROTON_DENSITY for ds in short})
    with warnings.catch_warnings():
        # highdicom warns about the source's one-component patient name; the value is kept as is.
        warnings.simplefilter("ignore", UserWarning)
        image = LegacyConvertedEnhancedMRImage(slices, series_instance_uid=generate_uid(),
                                               series_number=int(slices[0].SeriesNumber or 1),
                                               sop_instance_uid=sop, instance_number=1)
    if args.two_echoes:
        # highdicom knows no echoes: each frame gets its source instance's.
        for frame in image.PerFrameFunctionalGroupsSequence:
            stack_id, echo_time = echoes[str(frame.ConversionSourceAttributesSequence[0].ReferencedSOPInstanceUID)]
            frame.FrameContentSequence[0].StackID = stack_id
            echo = Dataset()
            echo.EffectiveEchoTime = echo_time
            frame.MREchoSequence = [echo]
        timing = Dataset()
        timing.RepetitionTime = REPETITION_TIME
        image.SharedFunctionalGroupsSequence[0].MRTimingAndRelatedParametersSequence = [timing]
        image.SOPClassUID = image.file_meta.MediaStorageSOPClassUID = ENHANCED_MR_IMAGE_STORAGE
    image.save_as(args.output)
    print(sop)


if __name__ == "__main__":
    main()
