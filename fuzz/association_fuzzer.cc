// libFuzzer harness over the association / P-DATA path: the node's storage SCP (Sources/CDICOM/scp.cc)
// runs in-process on a loopback port, and each input is a byte stream a peer sends on one TCP
// connection (the seeds are whole exchanges: A-ASSOCIATE-RQ, C-ECHO or C-STORE, A-RELEASE-RQ, built
// by fuzz/seeds.py with pynetdicom). The harness then closes its sending side, reads until the SCP
// closes, and waits until the SCP's association thread is done, so each input's work is finished
// before the next starts. What the callbacks do mirrors the node: accept the configured called AE
// title, receive the data set into a file and read it as ingest and analysis do (received_file.cc).
//
// Findings besides crashes and sanitizer reports: the SCP keeping a connection open after the peer's
// end of stream, an association thread that does not finish, a partial file the shim promised to
// remove, and the SCP no longer answering a C-ECHO (probed every probeInterval inputs).
#include "cdicom.h"
#include "fuzz_support.h"
#include "received_file.h"
#include "scp_probe.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

constexpr const char *aeTitle = "FUZZSCP";  // the seeds' called AE title (fuzz/seeds.py)
constexpr int timeoutSeconds = 5;           // ACSE and DIMSE timeouts of the SCP
// How long the SCP may take to finish with an input after the peer's end of stream; well above
// the SCP's own timeouts, so reaching it means something is stuck.
constexpr auto settleDeadline = std::chrono::seconds(3 * timeoutSeconds);
constexpr uint64_t probeInterval = 256;
constexpr int probeTimeoutSeconds = 3 * timeoutSeconds;
// The first C-ECHO loads DCMTK's data dictionary: thousands of allocations, each with a full stack
// when fuzz.sh asks ASan for them (fast_unwind_on_malloc=0), seconds on a loaded machine.
constexpr int firstProbeTimeoutSeconds = 60;

// What the node offers (Sources/DICOM/UID.swift: SOPClass.acceptedStorage, TransferSyntax.accepted);
// the MR and secondary capture classes are enough for the seeds' data sets.
const char *const sopClasses[] = {"1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.7"};
const char *const transferSyntaxes[] = {
    "1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99",
    "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.5",
    "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51"};

cdicom_scp *scp = nullptr;
uint16_t port = 0;
std::string storeDirectory;
fuzz::Counter inputs("inputs"), accepted("associations accepted"), rejected("associations rejected"),
    stored("data sets stored"), refused("data sets refused"), decoded("stored data sets decoded"),
    probes("probes answered");

int acceptAssociation(void *, const cdicom_association_info *info) {
    if (strcmp(info->called_ae_title, aeTitle) != 0) { rejected.add(); return CDICOM_REJECT_CALLED_AE; }
    accepted.add();
    return CDICOM_ACCEPT;
}

// Odd message IDs are received, even ones refused before the data set is read (as the node refuses
// when the disk is nearly full), so both of the SCP's store paths are fuzzed.
uint16_t storeBegin(void *, const cdicom_store_request *request, char *tmpPath, size_t tmpPathLength) {
    if (request->message_id % 2 == 0) { refused.add(); return 0xA700; }  // Refused: Out of Resources
    std::string path = storeDirectory + "/" + std::to_string(request->association->association_id) + "-" +
                       std::to_string(request->message_id) + ".dcm";
    if (path.size() + 1 > tmpPathLength) fuzz::fail("store path longer than the SCP's buffer: " + path);
    memcpy(tmpPath, path.c_str(), path.size() + 1);
    return 0;
}

uint16_t storeEnd(void *, const cdicom_store_request *, const char *tmpPath) {
    stored.add();
    if (fuzz::readReceivedFile(tmpPath).frameDecoded) decoded.add();
    if (unlink(tmpPath) != 0) fuzz::fail(std::string("stored file missing at store_end: ") + tmpPath + ": " + strerror(errno));
    return 0x0000;
}

// The SCP's log, for replaying a finding: LSTV_FUZZ_SCP_LOG=1 prints it (fuzzing keeps it quiet).
const bool printLog = getenv("LSTV_FUZZ_SCP_LOG") != nullptr;
void log(void *, int level, const char *message) {
    if (printLog) fprintf(stderr, "scp log %d: %s\n", level, message);
}

uint16_t freeLoopbackPort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || bind(fd, (sockaddr *)&addr, sizeof addr) != 0 || getsockname(fd, (sockaddr *)&addr, &len) != 0)
        fuzz::fail(std::string("cannot find a free port: ") + strerror(errno));
    close(fd);
    return ntohs(addr.sin_port);
}

void sendAll(int fd, const uint8_t *data, size_t size) {
    size_t done = 0;
    while (done < size) {
        ssize_t n = send(fd, data + done, size - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // the SCP closed or reset early (it rejected the stream): fine
        done += (size_t)n;
    }
}

// Reads what the SCP answers until it closes the connection.
void drainUntilClosed(int fd) {
    const auto deadline = std::chrono::steady_clock::now() + settleDeadline;
    uint8_t buf[16384];
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) fuzz::fail("the SCP kept the connection open after the peer's end of stream");
        pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)left.count()) <= 0) continue;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // closed (or reset)
    }
}

void waitUntilIdle() {
    const auto deadline = std::chrono::steady_clock::now() + settleDeadline;
    while (cdicom_scp_active_associations(scp) > 0) {
        if (std::chrono::steady_clock::now() > deadline) fuzz::fail("an association thread did not finish");
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    cdicom_initialize(5);  // DCMTK's own logger: fatal only
    storeDirectory = fuzz::scratchDirectory() + "/stores";
    std::filesystem::create_directory(storeDirectory);
    // Named fields: the structs grow (TLS, per-host bounds, end-of-association callbacks).
    cdicom_scp_callbacks callbacks{};
    callbacks.accept_association = acceptAssociation;
    callbacks.store_begin = storeBegin;
    callbacks.store_end = storeEnd;
    callbacks.log = log;
    cdicom_scp_config config{};
    config.ae_title = aeTitle;
    config.max_associations = 4;
    config.acse_timeout_seconds = timeoutSeconds;
    config.dimse_timeout_seconds = timeoutSeconds;
    config.max_pdu = 16384;
    config.sop_classes = sopClasses;
    config.sop_class_count = std::size(sopClasses);
    config.transfer_syntaxes = transferSyntaxes;
    config.transfer_syntax_count = std::size(transferSyntaxes);
    char err[512] = {0};
    // Another process may take the free port between the probe and the bind: try a few.
    for (int attempt = 0; attempt < 5 && scp == nullptr; ++attempt) {
        port = config.port = freeLoopbackPort();
        scp = cdicom_scp_create(&config, &callbacks, err, sizeof err);
    }
    if (scp == nullptr) fuzz::fail(std::string("cannot start the SCP: ") + err);
    std::thread([] { cdicom_scp_run(scp, 1); }).detach();  // runs until the process exits
    std::string problem = fuzz::probeVerification(port, aeTitle, firstProbeTimeoutSeconds);
    if (!problem.empty()) fuzz::fail("the SCP does not answer before any input: " + problem);
    probes.add();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    std::string error;
    int fd = fuzz::connectLoopback(port, error);
    if (fd < 0) fuzz::fail("the SCP does not accept connections: " + error);
    sendAll(fd, data, size);
    shutdown(fd, SHUT_WR);
    drainUntilClosed(fd);
    close(fd);
    waitUntilIdle();
    if (!std::filesystem::is_empty(storeDirectory))
        fuzz::fail("a partial data set was left in " + storeDirectory + " (the SCP removes it when a transfer breaks off)");
    inputs.add();
    if (inputs.value() % probeInterval == 0) {
        std::string problem = fuzz::probeVerification(port, aeTitle, probeTimeoutSeconds);
        if (!problem.empty()) fuzz::fail("the SCP stopped answering: " + problem);
        probes.add();
    }
    return 0;
}
