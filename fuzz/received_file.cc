#include "received_file.h"

#include "cdicom.h"

#include <cstdint>
#include <vector>

namespace fuzz {
namespace {

struct Tag { uint16_t group, element; };

// The tags the node reads from a received file: ingest's header (InstanceHeader.read) and
// analysis's geometry (DicomSlices.load), as named in Sources/DICOM/Tag.swift.
constexpr Tag headerTags[] = {
    {0x0008, 0x0016}, {0x0008, 0x0018}, {0x0020, 0x000D}, {0x0020, 0x000E},  // SOP class/instance, study, series
    {0x0010, 0x0020}, {0x0008, 0x0050}, {0x0008, 0x0020}, {0x0008, 0x0060},  // patient ID, accession, study date, modality
    {0x0008, 0x103E}, {0x0018, 0x1030}, {0x0020, 0x0011}, {0x0008, 0x0008},  // series description, protocol, series number, image type
    {0x0020, 0x0037}, {0x0018, 0x0081}, {0x0018, 0x0080}, {0x0018, 0x0050},  // orientation, TE, TR, slice thickness
    {0x0002, 0x0010}, {0x0020, 0x0013},                                      // transfer syntax (meta), instance number
};
constexpr Tag sliceTags[] = {{0x0008, 0x0018}, {0x0020, 0x0032}, {0x0020, 0x0037}, {0x0028, 0x0030}, {0x0020, 0x0013}};

// DicomDataset.string: a 1 KiB buffer, then 1 MiB when the value did not fit.
void readString(cdicom_dataset *ds, Tag tag) {
    std::vector<char> buffer(1024);
    if (cdicom_dataset_get_string(ds, tag.group, tag.element, buffer.data(), buffer.size()) == -1) {
        buffer.assign(1 << 20, 0);
        cdicom_dataset_get_string(ds, tag.group, tag.element, buffer.data(), buffer.size());
    }
}

}  // namespace

ReadOutcome readReceivedFile(const char *path) {
    ReadOutcome outcome;
    char err[512];
    if (cdicom_dataset *header = cdicom_dataset_open(path, /*header_only*/ 1, err, sizeof err)) {
        outcome.headerRead = true;
        for (Tag t : headerTags) readString(header, t);
        cdicom_dataset_close(header);
    }
    cdicom_dataset *ds = cdicom_dataset_open(path, /*header_only*/ 0, err, sizeof err);
    if (ds == nullptr) return outcome;
    uint32_t frames = 0, rows = 0, columns = 0, samples = 0;
    cdicom_dataset_image_info(ds, &frames, &rows, &columns, &samples);
    for (Tag t : sliceTags) readString(ds, t);
    if (rows > 0 && columns > 0) {
        const size_t pixels = (size_t)rows * columns;
        int rc;
        if (samples == 3) {
            std::vector<uint8_t> rgb(pixels * 3);
            rc = cdicom_dataset_decode_rgb8(ds, 0, rgb.data(), rgb.size(), err, sizeof err);
        } else {
            std::vector<float> grey(pixels);
            rc = cdicom_dataset_decode_frame(ds, 0, grey.data(), grey.size(), err, sizeof err);
        }
        outcome.frameDecoded = rc == 0;
    }
    cdicom_dataset_close(ds);
    return outcome;
}

}  // namespace fuzz
