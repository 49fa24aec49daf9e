// libFuzzer harness over the dataset reading the node does on a received file: each input is
// written to a file (the shim opens paths, not memory) and read as ingest, analysis and /rendered
// read it (received_file.cc). Built with AddressSanitizer and UndefinedBehaviorSanitizer; DCMTK
// itself is the system's uninstrumented library, so coverage counts the shim only.
#include "cdicom.h"
#include "fuzz_support.h"
#include "received_file.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {
std::string inputPath;
fuzz::Counter inputs("inputs"), headersRead("headers read"), framesDecoded("frames decoded");
}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    cdicom_initialize(5);  // DCMTK's own logger: fatal only (errors come back as return values)
    inputPath = fuzz::scratchDirectory() + "/input.dcm";
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz::writeFile(inputPath, data, size);
    fuzz::ReadOutcome outcome = fuzz::readReceivedFile(inputPath.c_str());
    inputs.add();
    if (outcome.headerRead) headersRead.add();
    if (outcome.frameDecoded) framesDecoded.add();
    return 0;
}
