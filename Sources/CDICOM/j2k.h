// JPEG 2000 and HTJ2K frames decoded by OpenJPEG: DCMTK 3.6.7 has no JPEG 2000 codec, so these
// transfer syntaxes are stored as received and their frames decoded here for analysis.
#ifndef CDICOM_J2K_H
#define CDICOM_J2K_H
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cdicom {
// Whether a transfer syntax UID is one of PS3.5's JPEG 2000 / HTJ2K syntaxes (1.2.840.10008.1.2.4.90,
// .91, .201, .202, .203).
bool isJPEG2000(const std::string &transferSyntaxUID);

// The dataset's transfer syntax UID as its File Meta Information names it (DCMTK 3.6.7 has no
// enumerator for the HTJ2K syntaxes, so the UID is read rather than getOriginalXfer()).
std::string transferSyntaxUID(DcmFileFormat &file);

// Decodes one frame of a JPEG 2000 encapsulated Pixel Data into its stored values (one per pixel,
// as OpenJPEG returns them: sign already applied for signed components). The frame must be one
// component of Rows x Columns with a precision of at most BitsAllocated. false with `why` set when
// the frame index is out of range, the fragments or the codestream are missing, corrupt or do not match the attributes.
bool decodeJPEG2000Frame(DcmDataset *d, uint32_t frame, uint16_t rows, uint16_t columns, uint16_t bitsAllocated,
                         std::vector<int32_t> &values, std::string &why);
}  // namespace cdicom
#endif
