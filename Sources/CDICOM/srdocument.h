// Shared by the SR-family writers (TID 1500 report, Key Object Selection): the series, instance and
// equipment attributes of a new document, the caller's UIDs after DCMTK has written its own, and
// image references (with the frame of a multi-frame image).
#ifndef CDICOM_SRDOCUMENT_H
#define CDICOM_SRDOCUMENT_H
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmsr/dsrdoc.h"
#include "dcmtk/dcmsr/dsrimgvl.h"
#include "cdicom.h"

namespace cdicom {

/// A new series in the study of `instance`, with its series number and description, instance
/// number, content date and time, and General Equipment.
void describeDocument(DSRDocument &doc, const cdicom_new_instance &instance);

/// Puts the caller's study, series and SOP instance UIDs into the written data set (DCMTK generates
/// its own series and instance UIDs).
void restoreUIDs(DcmDataset &ds, const cdicom_new_instance &instance);

/// An IMAGE reference to `ref`, with its Referenced Frame Number when it names one frame of a
/// multi-frame image (an enhanced MR's analysed frame).
DSRImageReferenceValue imageReference(const cdicom_instance_ref &ref);

}  // namespace cdicom
#endif
