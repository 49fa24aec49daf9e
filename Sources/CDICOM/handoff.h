// Handing a socket the listener accepted to DCMTK, so that the A-ASSOCIATE-RQ (and the TLS handshake)
// is read on the association's own thread, never on the listener's.
#ifndef CDICOM_HANDOFF_H
#define CDICOM_HANDOFF_H
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmnet/assoc.h"
#include "dcmtk/dcmnet/dcmlayer.h"

#include <mutex>

namespace cdicom {

// The transport layer of the node's acceptor networks: wraps DCMTK's plain or TLS layer, and is the
// signal that DCMTK has taken the handed-over socket (see handoff.cc). Owns `inner`.
class HandoffLayer : public DcmTransportLayer {
public:
    HandoffLayer(DcmTransportLayer *inner, int negotiationTimeoutSeconds);
    ~HandoffLayer() override;
    DcmTransportConnection *createConnection(DcmNativeSocketType openSocket, OFBool useSecureLayer) override;

private:
    DcmTransportLayer *inner_;
    int negotiationTimeoutSeconds_;
};

// ASC_receiveAssociation on the connected socket `fd` (network: an acceptor whose transport layer is a
// HandoffLayer). `taken` says whether DCMTK took the socket (it closes it when the association is
// dropped); when false the caller still owns `fd`.
OFCondition receiveOnSocket(T_ASC_Network *network, int fd, bool secure, long maxPDU, T_ASC_Association **assoc,
                            bool *taken);

// Held while DCMTK reads dcmExternalSocketHandle: ASC_initializeNetwork(NET_ACCEPTOR) reads it too
// (a set handle means "no listening socket"), so acceptor networks are created under it.
std::mutex &externalSocketMutex();

// Read and write time-outs of a socket (SO_RCVTIMEO, SO_SNDTIMEO): DCMTK reads the body of an
// A-ASSOCIATE-RQ blocking, so without them a peer that stops mid-PDU holds the thread for DCMTK's 60 s.
void setSocketTimeouts(int fd, int seconds);

}  // namespace cdicom
#endif
