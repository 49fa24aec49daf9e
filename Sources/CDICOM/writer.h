// Shared by the DICOM writers (SR, Secondary Capture, Key Object Selection): error handling and the modules copied from
// a received instance so that a new object lands in the same patient and study. Not part of the C API.
#ifndef CDICOM_WRITER_H
#define CDICOM_WRITER_H
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "util.h"

#include <exception>
#include <string>

namespace cdicom {

inline std::string str(const char *s) { return s ? std::string(s) : std::string(); }

/// A writer's failure: the message names the attribute or step.
struct Failure {
    std::string message;
};

inline void check(const OFCondition &c, const std::string &what) {
    if (c.bad()) throw Failure{what + ": " + c.text()};
}

/// Copies the Patient, General Study, Patient Study and Clinical Trial attributes present in source,
/// converted to UTF-8, and declares the target ISO_IR 192 (the writers' own text is UTF-8).
void copyPatientAndStudy(DcmDataset &source, DcmDataset &target);

/// Writes the file as Part 10, explicit VR little endian, with a new meta header.
void savePart10(DcmFileFormat &file, const char *path);

/// Runs a writer behind the C API: 0, or -1 with the failure's message in err.
template <typename Body> int guarded(char *err, size_t err_len, Body body) {
    try {
        body();
        return 0;
    } catch (const Failure &f) {
        copy(err, err_len, f.message.c_str());
    } catch (const std::exception &e) {
        copy(err, err_len, e.what());
    }
    return -1;
}

}  // namespace cdicom
#endif
