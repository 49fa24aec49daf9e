// DCMTK 3.6.7 reads an association request only inside ASC_receiveAssociation, which accept()s the
// connection itself; a listener built on it reads every A-ASSOCIATE-RQ (and, with TLS, runs every
// handshake) on its own thread, so one silent connection stalls every sender for the ACSE timeout.
// The one way to give DCMTK a socket accepted elsewhere is the process-wide dcmExternalSocketHandle,
// read at the start of the next ASC_receiveAssociation ("inherently thread unsafe", dul.h). It is made
// safe here: the handle is set under a mutex, and HandoffLayer::createConnection, which DCMTK calls as
// soon as it has read the handle (after getpeername and socket options, before the TLS handshake and
// any read), clears it and releases the mutex. The slow part runs unlocked, on the caller's thread.
#include "handoff.h"

#include "dcmtk/dcmnet/dul.h"

#include <sys/socket.h>
#include <sys/time.h>

namespace cdicom {
namespace {

struct Handoff {
    std::unique_lock<std::mutex> lock;
    bool taken = false;
};

// The hand-over in progress on this thread, if any.
thread_local Handoff *current = nullptr;

void release(Handoff &h) {
    if (!h.lock.owns_lock()) return;
    dcmExternalSocketHandle.set(DCMNET_INVALID_SOCKET);
    h.lock.unlock();
}

}  // namespace

std::mutex &externalSocketMutex() {
    static std::mutex m;
    return m;
}

void setSocketTimeouts(int fd, int seconds) {
    struct timeval tv = {seconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

HandoffLayer::HandoffLayer(DcmTransportLayer *inner, int negotiationTimeoutSeconds)
    : inner_(inner), negotiationTimeoutSeconds_(negotiationTimeoutSeconds) {}

HandoffLayer::~HandoffLayer() { delete inner_; }

DcmTransportConnection *HandoffLayer::createConnection(DcmNativeSocketType openSocket, OFBool useSecureLayer) {
    if (current != nullptr) {
        current->taken = true;  // from here DCMTK closes the socket, whatever happens
        release(*current);
    }
    DcmTransportConnection *connection = inner_->createConnection(openSocket, useSecureLayer);
    // DCMTK's connection set its own (60 s) time-outs; negotiation gets the ACSE timeout.
    if (connection != nullptr) setSocketTimeouts(openSocket, negotiationTimeoutSeconds_);
    return connection;
}

OFCondition receiveOnSocket(T_ASC_Network *network, int fd, bool secure, long maxPDU, T_ASC_Association **assoc,
                            bool *taken) {
    Handoff handoff{std::unique_lock<std::mutex>(externalSocketMutex())};
    dcmExternalSocketHandle.set(fd);
    current = &handoff;
    // The timeout argument only applies to DCMTK's own accept(); the first PDU is awaited for the
    // network's timeout (the ACSE timeout).
    OFCondition c = ASC_receiveAssociation(network, assoc, maxPDU, nullptr, nullptr, secure ? OFTrue : OFFalse,
                                           DUL_NOBLOCK, 0);
    current = nullptr;
    release(handoff);  // DCMTK failed before it took the socket (e.g. the peer was already gone)
    *taken = handoff.taken;
    return c;
}

}  // namespace cdicom
