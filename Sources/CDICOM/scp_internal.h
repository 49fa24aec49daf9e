// The storage SCP's state, shared by its two translation units: scp.cc (listening, connection slots,
// negotiation) and scp_service.cc (what an established association does). Not part of the C API.
#ifndef CDICOM_SCP_INTERNAL_H
#define CDICOM_SCP_INTERNAL_H
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmnet/assoc.h"
#include "cdicom.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

// One listening port: DCMTK's acceptor network (listening socket, transport layer: plain or TLS).
struct cdicom_listener {
    T_ASC_Network *network = nullptr;
    bool secure = false;
    uint16_t port = 0;
};

struct cdicom_scp {
    cdicom_scp_config config;
    cdicom_scp_callbacks callbacks;
    std::string aeTitle;
    std::vector<std::string> sopClasses;
    std::vector<std::string> transferSyntaxes;
    std::vector<cdicom_listener> listeners;
    std::atomic<bool> stopping{false};
    std::atomic<uint64_t> nextAssociationId{1};
    std::mutex mutex;
    std::condition_variable idle;
    int active = 0;                     // connections holding an association slot (negotiating or associated)
    int refusing = 0;                   // connections over a bound, being answered with A-ASSOCIATE-RJ
    std::map<std::string, int> perPeer; // association slots held, by remote host
    std::set<int> sockets;              // every open connection's socket: shut down after the grace period
};

namespace cdicom {
void log(cdicom_scp *scp, int level, const std::string &message);
int associationSocket(T_ASC_Association *assoc);
void reject(T_ASC_Association *assoc, T_ASC_RejectParametersResult result, T_ASC_RejectParametersSource source,
            T_ASC_RejectParametersReason reason);
// Serves an association whose A-ASSOCIATE-RQ has been read: asks the owner, negotiates the
// presentation contexts, then answers C-ECHO and C-STORE until release or abort.
void serveAssociation(cdicom_scp *scp, T_ASC_Association *assoc);
}  // namespace cdicom
#endif
