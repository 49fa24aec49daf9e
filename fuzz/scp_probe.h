// Checks that a storage SCP still answers: an association for the Verification SOP class, one
// C-ECHO, a release, each answered by the PDU PS3.8 prescribes. The association harness runs it
// between fuzzed inputs, so a listener or association thread left stuck by an input is a finding.
#ifndef FUZZ_SCP_PROBE_H
#define FUZZ_SCP_PROBE_H

#include <cstdint>
#include <string>

namespace fuzz {

// A connected TCP socket to 127.0.0.1:port, or -1 with the reason in error.
int connectLoopback(uint16_t port, std::string &error);

// Empty when the SCP answered A-ASSOCIATE-AC, P-DATA-TF (the C-ECHO-RSP) and A-RELEASE-RP within
// timeoutSeconds each; otherwise what went wrong.
std::string probeVerification(uint16_t port, const char *calledAETitle, int timeoutSeconds);

}  // namespace fuzz
#endif
