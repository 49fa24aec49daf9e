// Storage SCP: one listening thread, one thread per association (bounded), C-ECHO and C-STORE.
//
// Written on DCMTK's ASC/DIMSE layer rather than DcmSCPPool (marked experimental in 3.6.7): we need
// TCP_NODELAY on every accepted socket, a check of free space before a data set is read, a stop that
// lets associations in flight finish, and the data set written bit-preserving to a file whose fate
// (fsync, rename, index) the caller decides before the C-STORE-RSP is sent.
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmnet/assoc.h"
#include "dcmtk/dcmnet/dimse.h"
#include "dcmtk/dcmnet/diutil.h"
#include "dcmtk/dcmnet/dulstruc.h"
#include "dcmtk/dcmnet/dcmtrans.h"
#include "cdicom.h"
#include "util.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

struct cdicom_scp {
    cdicom_scp_config config;
    cdicom_scp_callbacks callbacks;
    std::string aeTitle;
    std::vector<std::string> sopClasses;
    std::vector<std::string> transferSyntaxes;
    T_ASC_Network *network = nullptr;
    std::atomic<bool> stopping{false};
    std::atomic<uint64_t> nextAssociationId{1};
    std::mutex mutex;
    std::condition_variable idle;
    int active = 0;
    std::vector<T_ASC_Association *> live;  // for aborting stragglers after the grace period
};

namespace {

void log(cdicom_scp *scp, int level, const std::string &message) {
    if (scp->callbacks.log) scp->callbacks.log(scp->callbacks.context, level, message.c_str());
}

// DCMTK keeps the socket inside the private association key (dulstruc.h) and getSocket() is
// protected; a member pointer taken through a derived class reaches it without a cast.
struct SocketAccess : DcmTransportConnection {
    static int of(DcmTransportConnection *c) { return (c->*(&SocketAccess::getSocket))(); }
};

int associationSocket(T_ASC_Association *assoc) {
    auto *key = reinterpret_cast<PRIVATE_ASSOCIATIONKEY *>(assoc->DULassociation);
    if (key == nullptr || key->connection == nullptr) return -1;
    return SocketAccess::of(key->connection);
}

void setNoDelay(T_ASC_Association *assoc) {
    int fd = associationSocket(assoc);
    if (fd < 0) return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void reject(T_ASC_Association *assoc, T_ASC_RejectParametersResult result, T_ASC_RejectParametersSource source,
            T_ASC_RejectParametersReason reason) {
    T_ASC_RejectParameters rej = {result, source, reason};
    ASC_rejectAssociation(assoc, &rej);
}

struct StoreContext {
    cdicom_scp *scp;
    cdicom_store_request *request;
    std::string tmpPath;
    bool ended = false;
};

void storeProgress(void *data, T_DIMSE_StoreProgress *progress, T_DIMSE_C_StoreRQ *, char *, DcmDataset **,
                   T_DIMSE_C_StoreRSP *response, DcmDataset **) {
    auto *ctx = static_cast<StoreContext *>(data);
    if (progress->state != DIMSE_StoreEnd) return;
    ctx->ended = true;
    // The whole data set is in the file: the caller makes it durable and decides the status.
    response->DimseStatus = ctx->scp->callbacks.store_end(ctx->scp->callbacks.context, ctx->request,
                                                          ctx->tmpPath.c_str());
}

// Returns false when the association can no longer be used (it has been aborted).
bool handleStore(cdicom_scp *scp, T_ASC_Association *assoc, T_ASC_PresentationContextID presID,
                 T_DIMSE_C_StoreRQ &rq, const cdicom_association_info &info) {
    T_ASC_PresentationContext pc;
    std::string ts;
    if (ASC_findAcceptedPresentationContext(assoc->params, presID, &pc).good()) ts = pc.acceptedTransferSyntax;
    cdicom_store_request request = {&info, rq.AffectedSOPClassUID, rq.AffectedSOPInstanceUID, ts.c_str(), rq.MessageID};

    char tmp[4096] = {0};
    uint16_t status = scp->callbacks.store_begin(scp->callbacks.context, &request, tmp, sizeof tmp);
    if (status != 0) {
        // Refused before reading: the data set still has to be drained from the wire.
        DIC_UL bytes = 0, pdvs = 0;
        OFCondition c = DIMSE_ignoreDataSet(assoc, DIMSE_NONBLOCKING, scp->config.dimse_timeout_seconds, &bytes, &pdvs);
        if (c.bad()) {
            log(scp, 2, std::string("C-STORE data set could not be drained, aborting: ") + c.text());
            ASC_abortAssociation(assoc);
            return false;
        }
        T_DIMSE_C_StoreRSP rsp;
        memset(&rsp, 0, sizeof rsp);
        rsp.DimseStatus = status;
        rsp.DataSetType = DIMSE_DATASET_NULL;
        return DIMSE_sendStoreResponse(assoc, presID, &rq, &rsp, nullptr).good();
    }
    StoreContext ctx{scp, &request, tmp};
    OFCondition c = DIMSE_storeProvider(assoc, presID, &rq, tmp, /*writeMetaheader*/ OFTrue, nullptr,
                                        storeProgress, &ctx, DIMSE_NONBLOCKING, scp->config.dimse_timeout_seconds);
    if (c.bad()) {
        // The transfer broke off, the data set was malformed at the PDV level (e.g. an odd
        // fragment length), or the response could not be sent. Nothing was acknowledged unless the
        // end callback ran; a partial file is removed here. The DIMSE state is unknown, so the
        // association is aborted rather than left waiting for a response that never comes.
        if (!ctx.ended) unlink(tmp);
        log(scp, 2, std::string("C-STORE failed, aborting the association: ") + c.text());
        ASC_abortAssociation(assoc);
        return false;
    }
    return true;
}

void serveAssociation(cdicom_scp *scp, T_ASC_Association *assoc) {
    setNoDelay(assoc);
    cdicom_association_info info;
    char calling[64] = {0}, called[64] = {0}, host[128] = {0};
    ASC_getAPTitles(assoc->params, calling, sizeof calling, called, sizeof called, nullptr, 0);
    ASC_getPresentationAddresses(assoc->params, host, sizeof host, nullptr, 0);
    info.calling_ae_title = calling;
    info.called_ae_title = called;
    info.peer_host = host;
    info.association_id = scp->nextAssociationId.fetch_add(1);

    int decision = scp->callbacks.accept_association(scp->callbacks.context, &info);
    if (decision != CDICOM_ACCEPT) {
        T_ASC_RejectParametersReason reason = ASC_REASON_SU_NOREASON;
        if (decision == CDICOM_REJECT_CALLED_AE) reason = ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED;
        if (decision == CDICOM_REJECT_CALLING_AE) reason = ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED;
        reject(assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, reason);
        return;
    }

    std::vector<const char *> ts;
    for (auto &t : scp->transferSyntaxes) ts.push_back(t.c_str());
    std::vector<const char *> classes;
    for (auto &s : scp->sopClasses) classes.push_back(s.c_str());
    const char *verification[] = {UID_VerificationSOPClass};
    const char *uncompressed[] = {UID_LittleEndianExplicitTransferSyntax, UID_BigEndianExplicitTransferSyntax,
                                  UID_LittleEndianImplicitTransferSyntax};
    OFCondition c = ASC_acceptContextsWithPreferredTransferSyntaxes(assoc->params, verification, 1, uncompressed, 3);
    if (c.good() && !classes.empty())
        c = ASC_acceptContextsWithPreferredTransferSyntaxes(assoc->params, classes.data(), (int)classes.size(),
                                                            ts.data(), (int)ts.size());
    if (c.good()) c = ASC_acknowledgeAssociation(assoc);
    if (c.bad()) {
        log(scp, 2, std::string("association negotiation failed: ") + c.text());
        return;
    }
    log(scp, 0, "association " + std::to_string(info.association_id) + " accepted");
    // However the association ends (release, abort, timeout, a broken connection), its owner hears
    // of it once, after its last C-STORE (the audit trail's per-association message).
    struct EndNotice {
        cdicom_scp *scp;
        const cdicom_association_info *info;
        ~EndNotice() {
            if (scp->callbacks.association_ended) scp->callbacks.association_ended(scp->callbacks.context, info);
        }
    } endNotice{scp, &info};

    for (;;) {
        T_ASC_PresentationContextID presID = 0;
        T_DIMSE_Message msg;
        c = DIMSE_receiveCommand(assoc, DIMSE_NONBLOCKING, scp->config.dimse_timeout_seconds, &presID, &msg, nullptr);
        if (c == DUL_PEERREQUESTEDRELEASE) { ASC_acknowledgeRelease(assoc); break; }
        if (c == DUL_PEERABORTEDASSOCIATION) { log(scp, 1, "association aborted by peer"); break; }
        if (c.bad()) {
            log(scp, 2, std::string("association aborted: ") + c.text());
            ASC_abortAssociation(assoc);
            break;
        }
        switch (msg.CommandField) {
        case DIMSE_C_ECHO_RQ:
            DIMSE_sendEchoResponse(assoc, presID, &msg.msg.CEchoRQ, STATUS_Success, nullptr);
            break;
        case DIMSE_C_STORE_RQ:
            if (!handleStore(scp, assoc, presID, msg.msg.CStoreRQ, info)) return;
            break;
        default:
            // Only C-ECHO and C-STORE are offered; anything else is a protocol error.
            log(scp, 2, "unsupported DIMSE command " + std::to_string((int)msg.CommandField) + ", aborting");
            ASC_abortAssociation(assoc);
            return;
        }
    }
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
    OFCondition c = ASC_initializeNetwork(NET_ACCEPTOR, config->port, config->acse_timeout_seconds, &scp->network);
    if (c.bad()) {
        cdicom::copy(err, err_len, (std::string("cannot listen on port ") + std::to_string(config->port) + ": " + c.text()).c_str());
        delete scp;
        return nullptr;
    }
    return scp;
}

int cdicom_scp_run(cdicom_scp *scp, int grace_seconds) {
    while (!scp->stopping.load()) {
        // Wake every second to notice a stop request.
        if (!ASC_associationWaiting(scp->network, 1)) continue;
        T_ASC_Association *assoc = nullptr;
        OFCondition c = ASC_receiveAssociation(scp->network, &assoc, scp->config.max_pdu, nullptr, nullptr, OFFalse,
                                               DUL_NOBLOCK, scp->config.acse_timeout_seconds);
        if (c.bad()) {
            if (assoc) { ASC_dropAssociation(assoc); ASC_destroyAssociation(&assoc); }
            if (c != DUL_NOASSOCIATIONREQUEST) log(scp, 2, std::string("association request not received: ") + c.text());
            continue;
        }
        bool full = false;
        {
            std::lock_guard<std::mutex> lock(scp->mutex);
            if (scp->active >= scp->config.max_associations || scp->stopping.load()) full = true;
            else { scp->active++; scp->live.push_back(assoc); }
        }
        if (full) {
            log(scp, 2, "association rejected: all " + std::to_string(scp->config.max_associations) + " association slots busy");
            reject(assoc, ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
                   ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED);
            ASC_dropAssociation(assoc);
            ASC_destroyAssociation(&assoc);
            continue;
        }
        std::thread([scp, assoc]() mutable {
            serveAssociation(scp, assoc);
            {
                std::lock_guard<std::mutex> lock(scp->mutex);
                for (auto it = scp->live.begin(); it != scp->live.end(); ++it)
                    if (*it == assoc) { scp->live.erase(it); break; }
            }
            ASC_dropSCPAssociation(assoc);
            ASC_destroyAssociation(&assoc);
            std::lock_guard<std::mutex> lock(scp->mutex);
            scp->active--;
            scp->idle.notify_all();
        }).detach();
    }
    // Stop accepting: finish what is in flight, within the grace period.
    std::unique_lock<std::mutex> lock(scp->mutex);
    bool drained = scp->idle.wait_for(lock, std::chrono::seconds(grace_seconds), [scp] { return scp->active == 0; });
    if (!drained) {
        log(scp, 2, std::to_string(scp->active) + " association(s) still open after the grace period; aborting them");
        for (auto *a : scp->live) {
            int fd = associationSocket(a);
            if (fd >= 0) shutdown(fd, SHUT_RDWR);
        }
        scp->idle.wait_for(lock, std::chrono::seconds(5), [scp] { return scp->active == 0; });
    }
    return scp->active == 0 ? 0 : -1;
}

int cdicom_scp_active_associations(cdicom_scp *scp) {
    std::lock_guard<std::mutex> lock(scp->mutex);
    return scp->active;
}

void cdicom_scp_stop(cdicom_scp *scp) { scp->stopping.store(true); }

void cdicom_scp_destroy(cdicom_scp *scp) {
    if (scp == nullptr) return;
    if (scp->network) ASC_dropNetwork(&scp->network);
    delete scp;
}
