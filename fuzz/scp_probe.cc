#include "scp_probe.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace fuzz {
namespace {

// PDU types (PS3.8 9.3.1).
enum PDUType : uint8_t { associateRQ = 0x01, associateAC = 0x02, pDataTF = 0x04, releaseRQ = 0x05, releaseRP = 0x06 };
constexpr const char *applicationContext = "1.2.840.10008.3.1.1.1";
constexpr const char *verificationSOPClass = "1.2.840.10008.1.1";
constexpr const char *implicitVRLittleEndian = "1.2.840.10008.1.2";
constexpr const char *implementationClassUID = "1.2.826.0.1.3680043.10.1561.1"; // only has to be a valid UID

struct Bytes {
    std::vector<uint8_t> b;
    Bytes &u8(uint8_t v) { b.push_back(v); return *this; }
    Bytes &be16(uint16_t v) { return u8(v >> 8).u8(v & 0xff); }
    Bytes &be32(uint32_t v) { return be16(v >> 16).be16(v & 0xffff); }
    Bytes &le16(uint16_t v) { return u8(v & 0xff).u8(v >> 8); }
    Bytes &le32(uint32_t v) { return le16(v & 0xffff).le16(v >> 16); }
    Bytes &raw(const void *p, size_t n) { b.insert(b.end(), (const uint8_t *)p, (const uint8_t *)p + n); return *this; }
    Bytes &bytes(const Bytes &o) { return raw(o.b.data(), o.b.size()); }
    Bytes &padded(const char *s, size_t width) { std::string v(s); v.resize(width, ' '); return raw(v.data(), width); }
    // An item or sub-item of an A-ASSOCIATE-RQ: type, reserved, 16-bit length, value.
    Bytes &item(uint8_t type, const Bytes &value) { return u8(type).u8(0).be16((uint16_t)value.b.size()).bytes(value); }
    Bytes &item(uint8_t type, const char *uid) { Bytes v; v.raw(uid, strlen(uid)); return item(type, v); }
    // A PDU: type, reserved, 32-bit length, value.
    Bytes &pdu(uint8_t type, const Bytes &value) { return u8(type).u8(0).be32((uint32_t)value.b.size()).bytes(value); }
};

Bytes associateRequest(const char *calledAETitle) {
    Bytes pc, user, body;
    pc.u8(1).u8(0).u8(0).u8(0).item(0x30, verificationSOPClass).item(0x40, implicitVRLittleEndian);
    Bytes maxLength;
    maxLength.be32(16384);
    user.item(0x51, maxLength).item(0x52, implementationClassUID);
    body.be16(1).be16(0).padded(calledAETitle, 16).padded("FUZZPROBE", 16);
    body.b.resize(body.b.size() + 32, 0);
    body.item(0x10, applicationContext).item(0x20, pc).item(0x50, user);
    return Bytes().pdu(associateRQ, body);
}

// The C-ECHO-RQ command set in implicit VR little endian (PS3.7 9.3.5), one PDV, one P-DATA-TF.
Bytes echoRequest() {
    Bytes elements;
    auto element = [&elements](uint16_t el, const Bytes &value) {
        elements.le16(0x0000).le16(el).le32((uint32_t)value.b.size()).bytes(value);
    };
    Bytes uid;
    uid.raw(verificationSOPClass, strlen(verificationSOPClass));
    if (uid.b.size() % 2) uid.u8(0);
    element(0x0002, uid);                 // Affected SOP Class UID
    element(0x0100, Bytes().le16(0x0030)); // Command Field: C-ECHO-RQ
    element(0x0110, Bytes().le16(1));      // Message ID
    element(0x0800, Bytes().le16(0x0101)); // Command Data Set Type: none
    Bytes command;
    command.le16(0x0000).le16(0x0000).le32(4).le32((uint32_t)elements.b.size()).bytes(elements);
    Bytes pdv;
    pdv.be32((uint32_t)command.b.size() + 2).u8(1).u8(0x03).bytes(command);  // context 1; command, last fragment
    return Bytes().pdu(pDataTF, pdv);
}

bool sendAll(int fd, const Bytes &data) {
    size_t done = 0;
    while (done < data.b.size()) {
        ssize_t n = send(fd, data.b.data() + done, data.b.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += (size_t)n;
    }
    return true;
}

bool receiveExactly(int fd, uint8_t *buf, size_t n, int timeoutSeconds) {
    size_t done = 0;
    while (done < n) {
        pollfd p = {fd, POLLIN, 0};
        int ready = poll(&p, 1, timeoutSeconds * 1000);
        if (ready < 0 && errno == EINTR) continue;  // libFuzzer's timer (SIGALRM)
        if (ready <= 0) return false;
        ssize_t r = recv(fd, buf + done, n - done, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        done += (size_t)r;
    }
    return true;
}

// The type of the next PDU (its body read and dropped), or 0 when none came in time.
uint8_t receivePDU(int fd, int timeoutSeconds) {
    uint8_t header[6];
    if (!receiveExactly(fd, header, sizeof header, timeoutSeconds)) return 0;
    uint32_t length = (uint32_t)header[2] << 24 | (uint32_t)header[3] << 16 | (uint32_t)header[4] << 8 | header[5];
    std::vector<uint8_t> body(length);
    if (length > 0 && !receiveExactly(fd, body.data(), length, timeoutSeconds)) return 0;
    return header[0];
}

}  // namespace

int connectLoopback(uint16_t port, std::string &error) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) { error = std::string("socket: ") + strerror(errno); return -1; }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (sockaddr *)&addr, sizeof addr);
    if (rc != 0 && errno == EINTR) {
        // Interrupted by libFuzzer's timer (SIGALRM): the connection goes on; wait for its outcome.
        pollfd p = {fd, POLLOUT, 0};
        while ((rc = poll(&p, 1, -1)) < 0 && errno == EINTR) {}
        int soError = 0;
        socklen_t len = sizeof soError;
        if (rc > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len) == 0) errno = soError;
        rc = (rc > 0 && soError == 0) ? 0 : -1;
    }
    if (rc != 0) {
        error = "connect to port " + std::to_string(port) + ": " + strerror(errno);
        close(fd);
        return -1;
    }
    return fd;
}

std::string probeVerification(uint16_t port, const char *calledAETitle, int timeoutSeconds) {
    std::string error;
    int fd = connectLoopback(port, error);
    if (fd < 0) return error;
    struct Step { Bytes request; PDUType answer; const char *name; };
    const Step steps[] = {{associateRequest(calledAETitle), associateAC, "A-ASSOCIATE-AC"},
                          {echoRequest(), pDataTF, "C-ECHO-RSP"},
                          {Bytes().pdu(releaseRQ, Bytes().be32(0)), releaseRP, "A-RELEASE-RP"}};
    for (const Step &s : steps) {
        uint8_t got = sendAll(fd, s.request) ? receivePDU(fd, timeoutSeconds) : 0;
        if (got != s.answer) {
            error = std::string("expected ") + s.name + ", got " + (got ? "PDU type " + std::to_string(got) : "nothing");
            break;
        }
    }
    close(fd);
    return error;
}

}  // namespace fuzz
