// What the node does with a file it received, as a sequence of CDICOM calls: the fuzz harnesses
// run it on every data set they get (the dataset harness on its input, the association harness on
// each file the SCP stored).
#ifndef FUZZ_RECEIVED_FILE_H
#define FUZZ_RECEIVED_FILE_H

namespace fuzz {

struct ReadOutcome {
    bool headerRead = false;  // the header-only open succeeded (ingest's InstanceHeader.read)
    bool frameDecoded = false; // a frame decoded (analysis's DicomSlices.load, the web's /rendered)
};

// Opens the file header-only and reads the attributes ingest reads (Sources/Node/InstanceHeader.swift),
// then opens it whole and decodes frame 0 as analysis (Sources/Analysis/DicomSlices.swift) or /rendered
// (Sources/Web/Rendered.swift, RGB when SamplesPerPixel is 3) do, with the buffer sizes the Swift face
// (Sources/DICOM/DicomDataset.swift) uses. Errors are outcomes, not failures: only a crash or a
// sanitizer report is a finding.
ReadOutcome readReceivedFile(const char *path);

}  // namespace fuzz
#endif
