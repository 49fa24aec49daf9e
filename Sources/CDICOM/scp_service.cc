// What an established association does: the A-ASSOCIATE-AC (after the owner's decision and the
// presentation contexts), then C-ECHO and C-STORE until release or abort. The listener and the
// negotiation up to a read A-ASSOCIATE-RQ are in scp.cc.
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmnet/assoc.h"
#include "dcmtk/dcmnet/dimse.h"
#include "dcmtk/dcmnet/diutil.h"
#include "cdicom.h"
#include "scp_internal.h"
#include "handoff.h"
#include "util.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

using cdicom::log;
using cdicom::associationSocket;

namespace {


void setNoDelay(T_ASC_Association *assoc) {
    int fd = associationSocket(assoc);
    if (fd < 0) return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
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

}  // namespace

void cdicom::serveAssociation(cdicom_scp *scp, T_ASC_Association *assoc) {
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
        cdicom::reject(assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, reason);
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
        // Nothing was sent: the request still gets its answer.
        log(scp, 2, std::string("association negotiation failed: ") + c.text() + " (answered A-ASSOCIATE-RJ)");
        cdicom::reject(assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_NOREASON);
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
    // Negotiation ran under the ACSE timeout; between PDVs of a data set the DIMSE timeout applies.
    int fd = associationSocket(assoc);
    if (fd >= 0) cdicom::setSocketTimeouts(fd, scp->config.dimse_timeout_seconds);

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

