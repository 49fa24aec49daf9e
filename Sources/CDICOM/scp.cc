// Storage SCP: one listening thread that only accepts TCP connections, and one thread per connection
// that negotiates the association (TLS handshake, A-ASSOCIATE-RQ, accept or reject) and then serves it
// (scp_service.cc). A connection that sends nothing costs its own thread the ACSE timeout, and no one
// else anything.
//
// Written on DCMTK's ASC/DIMSE layer rather than DcmSCPPool (marked experimental in 3.6.7, and it reads
// association requests on its listening thread): we need TCP_NODELAY on every accepted socket, bounds
// per remote host, a check of free space before a data set is read, a stop that lets associations in
// flight finish, and the data set written bit-preserving to a file whose fate (fsync, rename, index)
// the caller decides before the C-STORE-RSP is sent.
//
// Bounds: a connection holds an association slot from accept to close; at most max_associations
// slots, at most max_associations_per_peer per remote host. A connection over a bound still gets a
// thread of its own, from a second pool of max_associations (at least 8) refusal slots, that reads its
// A-ASSOCIATE-RQ and answers A-ASSOCIATE-RJ (transient, local limit exceeded) as PS3.8 says; only when
// that pool is full too is a connection closed unanswered (and logged).
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmnet/assoc.h"
#include "dcmtk/dcmnet/dul.h"
#include "dcmtk/dcmnet/dulstruc.h"
#include "dcmtk/dcmnet/dcmtrans.h"
#include "cdicom.h"
#include "handoff.h"
#include "tls.h"
#include "scp_internal.h"
#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace {

// DUL protocol states (PS3.8 9.2; DCMTK's dulfsm.h, not installed): Sta3 awaits our A-ASSOCIATE
// response to a well-formed request; in Sta13 DCMTK has already sent an A-ABORT or A-ASSOCIATE-RJ.
constexpr int kAwaitingLocalResponse = 3;
constexpr int kAwaitingTransportClose = 13;

// Connections over a bound answered at the same time: max_associations, but never so few that a
// small (or zero, a test's) max_associations leaves refusals unanswered.
constexpr int kMinimumRefusals = 8;

// A-ABORT PDU (PS3.8 9.3.8): source 2 = DICOM UL service-provider; reasons from table 9-26.
constexpr unsigned char kAbortPDUType = 0x07;
constexpr unsigned char kAbortSourceProvider = 0x02;
enum AbortReason : unsigned char {
    kReasonNotSpecified = 0x00,
    kUnrecognizedPDU = 0x01,
    kInvalidPDUParameterValue = 0x06,
};

// The standard DICOM application context (PS3.7 A.2.1).
constexpr const char *kApplicationContext = "1.2.840.10008.3.1.1.1";

enum class Slot { association, refusal };

PRIVATE_ASSOCIATIONKEY *dulKey(T_ASC_Association *assoc) {
    return assoc ? reinterpret_cast<PRIVATE_ASSOCIATIONKEY *>(assoc->DULassociation) : nullptr;
}

std::string numericHost(const sockaddr_storage &from) {
    char text[INET6_ADDRSTRLEN] = {0};
    if (from.ss_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in &>(from).sin_addr, text, sizeof text);
    else if (from.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6 &>(from).sin6_addr, text, sizeof text);
    return text[0] ? text : "unknown";
}

// Waits for the first byte of the connection. False when nothing came within the ACSE timeout or the
// peer closed without sending anything (a port scan, a load balancer's health check): PS3.8 closes
// such a connection when the ARTIM timer expires, with no PDU.
bool firstBytesArrive(int fd, int timeoutSeconds, std::string &why) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds);
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) { why = "nothing received within " + std::to_string(timeoutSeconds) + " s"; return false; }
        pollfd p = {fd, POLLIN, 0};
        int n = poll(&p, 1, (int)left.count());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { why = std::string("poll failed: ") + strerror(errno); return false; }
        if (n == 0) continue;
        char byte;
        ssize_t got = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (got > 0) return true;
        if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        why = got == 0 ? "closed by the peer before sending anything" : std::string("read failed: ") + strerror(errno);
        return false;
    }
}

// After DCMTK gave up on a request: answers with an A-ABORT where DCMTK sent nothing and the
// connection can still carry a PDU (an unrecognised PDU type, an A-ASSOCIATE-RQ that does not parse or
// is too large, a PDU cut off by a half-close or a stall). Returns what the peer got, for the log.
std::string answerFailedRequest(T_ASC_Association *assoc, const OFCondition &c) {
    PRIVATE_ASSOCIATIONKEY *key = dulKey(assoc);
    if (key != nullptr && key->nextPDUType == DUL_TYPEABORT)
        return "the peer sent A-ABORT; PS3.8 answers nothing";
    if (key == nullptr || key->connection == nullptr) return "connection closed, no PDU can be sent";
    if (key->protocolState == kAwaitingTransportClose)
        return c == DUL_UNSUPPORTEDPEERPROTOCOL ? "answered A-ASSOCIATE-RJ" : "answered A-ABORT";
    unsigned char reason = kInvalidPDUParameterValue;
    if (c.code() == DULC_UNRECOGNIZEDPDUTYPE) reason = kUnrecognizedPDU;
    else if (c == DUL_NETWORKCLOSED || c == DUL_READTIMEOUT) reason = kReasonNotSpecified;
    unsigned char pdu[10] = {kAbortPDUType, 0, 0, 0, 0, 4, 0, 0, kAbortSourceProvider, reason};
    if (key->connection->write(pdu, sizeof pdu) != (ssize_t)sizeof pdu)
        return std::string("A-ABORT could not be sent: ") + strerror(errno);
    key->protocolState = kAwaitingTransportClose;
    return "answered A-ABORT";
}

// Negotiates on the connection's own thread; serves the association when it holds a slot.
void runConnection(cdicom_scp *scp, const cdicom_listener &listener, int fd, const std::string &host, Slot slot,
                   const std::string &bound, T_ASC_Association **assoc, bool *taken) {
    std::string why;
    if (!firstBytesArrive(fd, scp->config.acse_timeout_seconds, why)) {
        cdicom::log(scp, 0, "connection from " + host + " closed without an association: " + why);
        return;
    }
    OFCondition c = cdicom::receiveOnSocket(listener.network, fd, listener.secure, scp->config.max_pdu, assoc, taken);
    PRIVATE_ASSOCIATIONKEY *key = dulKey(*assoc);
    if (c.bad() || key == nullptr || key->protocolState != kAwaitingLocalResponse) {
        std::string what = c.bad() ? c.text() : "the first PDU was not an A-ASSOCIATE-RQ";
        if (listener.secure && key == nullptr) what = "TLS: " + what;  // the handshake failed
        cdicom::log(scp, 2, "association request from " + host + " refused: " + what + " (" +
                                answerFailedRequest(*assoc, c) + ")");
        if (scp->callbacks.connection_refused)
            scp->callbacks.connection_refused(scp->callbacks.context, host.c_str(), what.c_str());
        return;
    }
    char context[128] = {0};
    ASC_getApplicationContextName((*assoc)->params, context, sizeof context);
    if (strcmp(context, kApplicationContext) != 0) {
        cdicom::log(scp, 2, "association request from " + host + " rejected: application context " + context +
                                " not supported (answered A-ASSOCIATE-RJ)");
        cdicom::reject(*assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER,
                       ASC_REASON_SU_APPCONTEXTNAMENOTSUPPORTED);
        return;
    }
    // DCMTK skips items it does not know; a request left without any presentation context cannot
    // be acknowledged (PS3.8 9.3.2 requires one or more).
    if (ASC_countPresentationContexts((*assoc)->params) == 0) {
        cdicom::log(scp, 2, "association request from " + host +
                                " rejected: no presentation context proposed (answered A-ASSOCIATE-RJ)");
        cdicom::reject(*assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_NOREASON);
        return;
    }
    // A request read after the stop gets no new association either (its slot is released as held).
    const bool stopping = slot == Slot::association && scp->stopping.load();
    if (slot == Slot::refusal || stopping) {
        cdicom::log(scp, 2, "association request from " + host + " rejected: " + (stopping ? "the node is stopping" : bound) +
                                " (answered A-ASSOCIATE-RJ, transient, local limit exceeded)");
        cdicom::reject(*assoc, ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
                       ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED);
        return;
    }
    cdicom::serveAssociation(scp, *assoc);
}

void releaseSlot(cdicom_scp *scp, Slot slot, const std::string &host) {
    std::lock_guard<std::mutex> lock(scp->mutex);
    if (slot == Slot::refusal) {
        scp->refusing--;
    } else {
        scp->active--;
        if (--scp->perPeer[host] <= 0) scp->perPeer.erase(host);
    }
    scp->idle.notify_all();
}

// After an A-ABORT or A-ASSOCIATE-RJ (Sta13): the peer closes the connection once it has read it.
// Closing first, with the rest of a malformed request still unread, would send a TCP reset that can
// destroy the answer before the peer reads it; so our side is shut for writing and the rest of the
// request read and dropped until the peer closes or the ARTIM time has passed.
void awaitPeerClose(T_ASC_Association *assoc, int seconds) {
    PRIVATE_ASSOCIATIONKEY *key = dulKey(assoc);
    if (key == nullptr || key->connection == nullptr || key->protocolState != kAwaitingTransportClose) return;
    int fd = cdicom::associationSocket(assoc);
    if (fd < 0) return;
    shutdown(fd, SHUT_WR);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    char sink[4096];
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return;
        pollfd p = {fd, POLLIN, 0};
        int n = poll(&p, 1, (int)left.count());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        ssize_t got = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
        if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) return;
    }
}

void connectionThread(cdicom_scp *scp, const cdicom_listener *listener, int fd, std::string host, Slot slot,
                      std::string bound) {
    T_ASC_Association *assoc = nullptr;
    bool taken = false;
    runConnection(scp, *listener, fd, host, slot, bound, &assoc, &taken);
    awaitPeerClose(assoc, scp->config.acse_timeout_seconds);
    {
        // Forgotten before it is closed: the grace period's shutdown must never reach a reused number.
        std::lock_guard<std::mutex> lock(scp->mutex);
        scp->sockets.erase(fd);
    }
    if (assoc) {
        ASC_dropSCPAssociation(assoc);
        ASC_destroyAssociation(&assoc);
    }
    if (!taken) close(fd);
    releaseSlot(scp, slot, host);
}

// Takes one connection off a listening socket; never reads from it.
void acceptOne(cdicom_scp *scp, const cdicom_listener &listener, int listenFd) {
    sockaddr_storage from;
    socklen_t len = sizeof from;
    int fd = accept4(listenFd, reinterpret_cast<sockaddr *>(&from), &len, SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            cdicom::log(scp, 3, std::string("cannot accept a connection: ") + strerror(errno));
            // The connection stays queued and the socket readable: back off rather than spin.
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return;  // EAGAIN, ECONNABORTED, EINTR: the peer went away or another wake-up took it
    }
    std::string host = numericHost(from);
    Slot slot = Slot::association;
    std::string bound;
    bool unanswered = false;
    {
        std::lock_guard<std::mutex> lock(scp->mutex);
        auto peer = scp->perPeer.find(host);
        int fromPeer = peer == scp->perPeer.end() ? 0 : peer->second;
        if (scp->stopping.load())
            bound = "the node is stopping";
        else if (scp->active >= scp->config.max_associations)
            bound = "all " + std::to_string(scp->config.max_associations) + " association slots busy";
        else if (fromPeer >= scp->config.max_associations_per_peer)
            bound = std::to_string(fromPeer) + " associations from this host already (max_associations_per_peer)";
        if (bound.empty()) {
            scp->active++;
            scp->perPeer[host]++;
        } else if (scp->refusing < std::max(scp->config.max_associations, kMinimumRefusals)) {
            scp->refusing++;
            slot = Slot::refusal;
        } else {
            unanswered = true;
        }
        if (!unanswered) scp->sockets.insert(fd);
    }
    if (unanswered) {
        cdicom::log(scp, 2, "connection from " + host + " closed unanswered: " + bound + " and " +
                                std::to_string(std::max(scp->config.max_associations, kMinimumRefusals)) +
                                " refusals in progress");
        close(fd);
        return;
    }
    try {
        std::thread(connectionThread, scp, &listener, fd, host, slot, bound).detach();
    } catch (const std::system_error &e) {
        cdicom::log(scp, 3, "connection from " + host + " closed unanswered: no thread for it: " + e.what());
        {
            std::lock_guard<std::mutex> lock(scp->mutex);
            scp->sockets.erase(fd);
        }
        close(fd);
        releaseSlot(scp, slot, host);
    }
}

}  // namespace

void cdicom::log(cdicom_scp *scp, int level, const std::string &message) {
    if (scp->callbacks.log) scp->callbacks.log(scp->callbacks.context, level, message.c_str());
}

// DCMTK keeps the socket inside the private association key (dulstruc.h) and getSocket() is
// protected; a member pointer taken through a derived class reaches it without a cast.
namespace {
struct SocketAccess : DcmTransportConnection {
    static int of(DcmTransportConnection *c) { return (c->*(&SocketAccess::getSocket))(); }
};
}  // namespace

int cdicom::associationSocket(T_ASC_Association *assoc) {
    PRIVATE_ASSOCIATIONKEY *key = dulKey(assoc);
    if (key == nullptr || key->connection == nullptr) return -1;
    return SocketAccess::of(key->connection);
}

void cdicom::reject(T_ASC_Association *assoc, T_ASC_RejectParametersResult result, T_ASC_RejectParametersSource source,
                    T_ASC_RejectParametersReason reason) {
    T_ASC_RejectParameters rej = {result, source, reason};
    ASC_rejectAssociation(assoc, &rej);
}

namespace {
// An acceptor network on `port` whose connections go through a HandoffLayer around `inner`.
bool addListener(cdicom_scp *scp, uint16_t port, bool secure, DcmTransportLayer *inner, char *err, size_t err_len) {
    cdicom_listener l;
    l.port = port;
    l.secure = secure;
    OFCondition c;
    {
        std::lock_guard<std::mutex> lock(cdicom::externalSocketMutex());
        c = ASC_initializeNetwork(NET_ACCEPTOR, port, scp->config.acse_timeout_seconds, &l.network);
    }
    if (c.good()) c = ASC_setTransportLayer(l.network, new cdicom::HandoffLayer(inner, scp->config.acse_timeout_seconds), 1);
    else delete inner;
    if (c.bad()) {
        cdicom::copy(err, err_len, (std::string("cannot listen on port ") + std::to_string(port) + ": " + c.text()).c_str());
        if (l.network) ASC_dropNetwork(&l.network);
        return false;
    }
    scp->listeners.push_back(l);
    return true;
}
}  // namespace

cdicom_scp *cdicom_scp_create(const cdicom_scp_config *config, const cdicom_scp_callbacks *callbacks, char *err,
                              size_t err_len) {
    auto *scp = new cdicom_scp();
    scp->config = *config;
    scp->callbacks = *callbacks;
    scp->aeTitle = config->ae_title ? config->ae_title : "";
    for (size_t i = 0; i < config->sop_class_count; ++i) scp->sopClasses.emplace_back(config->sop_classes[i]);
    for (size_t i = 0; i < config->transfer_syntax_count; ++i) scp->transferSyntaxes.emplace_back(config->transfer_syntaxes[i]);
    scp->config.ae_title = scp->aeTitle.c_str();
    scp->config.sop_classes = nullptr;
    scp->config.transfer_syntaxes = nullptr;
    if (scp->config.max_associations_per_peer < 1) scp->config.max_associations_per_peer = scp->config.max_associations;
    scp->config.tls = nullptr;  // not kept: the layer below holds what it loaded
    if (config->port != 0 && !addListener(scp, config->port, false, new DcmTransportLayer(), err, err_len)) {
        cdicom_scp_destroy(scp);
        return nullptr;
    }
    if (config->tls != nullptr) {
        int failure = CDICOM_TLS_OK;
        std::string message;
        DcmTransportLayer *layer = cdicom::makeTLSLayer(*config->tls, NET_ACCEPTOR, &failure, message);
        if (layer == nullptr) {
            cdicom::copy(err, err_len, ("TLS: " + message).c_str());
            cdicom_scp_destroy(scp);
            return nullptr;
        }
        if (!addListener(scp, config->tls_port, true, layer, err, err_len)) {
            cdicom_scp_destroy(scp);
            return nullptr;
        }
    }
    if (scp->listeners.empty()) {
        cdicom::copy(err, err_len, "neither a port nor a TLS port to listen on");
        cdicom_scp_destroy(scp);
        return nullptr;
    }
    return scp;
}

int cdicom_scp_run(cdicom_scp *scp, int grace_seconds) {
    std::vector<pollfd> fds;
    for (auto &l : scp->listeners) fds.push_back({DUL_networkSocket(l.network->network), POLLIN, 0});
    while (!scp->stopping.load()) {
        // Wake every second to notice a stop request.
        int n = poll(fds.data(), fds.size(), 1000);
        if (n <= 0) continue;
        for (size_t i = 0; i < fds.size(); ++i)
            if (fds[i].revents & POLLIN) acceptOne(scp, scp->listeners[i], fds[i].fd);
    }
    // Stop accepting: finish what is in flight, within the grace period.
    std::unique_lock<std::mutex> lock(scp->mutex);
    auto quiet = [scp] { return scp->active == 0 && scp->refusing == 0; };
    bool drained = scp->idle.wait_for(lock, std::chrono::seconds(grace_seconds), quiet);
    if (!drained) {
        cdicom::log(scp, 2, std::to_string(scp->active + scp->refusing) +
                                " connection(s) still open after the grace period; aborting them");
        for (int fd : scp->sockets) shutdown(fd, SHUT_RDWR);
        scp->idle.wait_for(lock, std::chrono::seconds(5), quiet);
    }
    return quiet() ? 0 : -1;
}

int cdicom_scp_active_associations(cdicom_scp *scp) {
    std::lock_guard<std::mutex> lock(scp->mutex);
    return scp->active;
}

void cdicom_scp_stop(cdicom_scp *scp) { scp->stopping.store(true); }

void cdicom_scp_destroy(cdicom_scp *scp) {
    if (scp == nullptr) return;
    for (auto &l : scp->listeners)
        if (l.network) ASC_dropNetwork(&l.network);
    delete scp;
}
