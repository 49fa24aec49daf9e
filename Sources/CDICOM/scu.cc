// Storage SCU: one association per call, on DCMTK's ASC/DIMSE layer (as scp.cc), with TCP_NODELAY
// on the association's socket, connect/ACSE/DIMSE timeouts, and the A-ASSOCIATE-RJ result reported
// so that the caller can tell a permanent refusal from a transient one.
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmnet/assoc.h"
#include "dcmtk/dcmnet/dimse.h"
#include "dcmtk/dcmnet/diutil.h"
#include "dcmtk/dcmnet/dul.h"
#include "dcmtk/dcmnet/dulstruc.h"
#include "dcmtk/dcmnet/dcmtrans.h"
#include "cdicom.h"
#include "tls.h"
#include "util.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

struct SocketAccess : DcmTransportConnection {
    static int of(DcmTransportConnection *c) { return (c->*(&SocketAccess::getSocket))(); }
};

void setNoDelay(T_ASC_Association *assoc) {
    auto *key = reinterpret_cast<PRIVATE_ASSOCIATIONKEY *>(assoc->DULassociation);
    if (key == nullptr || key->connection == nullptr) return;
    int fd = SocketAccess::of(key->connection);
    if (fd < 0) return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

struct Outcome {
    int code;
    std::string message;
};

bool isUncompressed(const std::string &ts) {
    return ts == UID_LittleEndianExplicitTransferSyntax || ts == UID_LittleEndianImplicitTransferSyntax ||
           ts == UID_BigEndianExplicitTransferSyntax;
}

struct Loaded {
    std::string path, sopClass, sopInstance, transferSyntax;
    std::unique_ptr<DcmFileFormat> file;
};

// dcmConnectionTimeout is a process-wide DCMTK global: serialise its use with the connect.
std::mutex connectMutex;

Outcome store(const cdicom_scu_config &cfg, const char *const *files, size_t count, uint16_t *statuses) {
    // Read every file first: a bad file fails the call before anything is sent.
    std::vector<Loaded> loaded(count);
    for (size_t i = 0; i < count; ++i) {
        Loaded &l = loaded[i];
        l.path = files[i] ? files[i] : "";
        l.file.reset(new DcmFileFormat());
        OFCondition c = l.file->loadFile(l.path.c_str());
        if (c.bad()) return {CDICOM_SCU_BAD_FILE, "cannot read " + l.path + ": " + c.text()};
        OFString v;
        if (l.file->getDataset()->findAndGetOFString(DCM_SOPClassUID, v).bad() || v.empty())
            return {CDICOM_SCU_BAD_FILE, l.path + " has no SOP Class UID"};
        l.sopClass = v.c_str();
        if (l.file->getDataset()->findAndGetOFString(DCM_SOPInstanceUID, v).bad() || v.empty())
            return {CDICOM_SCU_BAD_FILE, l.path + " has no SOP Instance UID"};
        l.sopInstance = v.c_str();
        l.transferSyntax = DcmXfer(l.file->getDataset()->getOriginalXfer()).getXferID();
    }

    const int timeout = cfg.timeout_seconds > 0 ? cfg.timeout_seconds : 30;
    T_ASC_Network *net = nullptr;
    OFCondition c = ASC_initializeNetwork(NET_REQUESTOR, 0, timeout, &net);
    if (c.bad()) return {CDICOM_SCU_CONNECTION_FAILED, std::string("cannot initialise the network: ") + c.text()};
    T_ASC_Parameters *params = nullptr;
    T_ASC_Association *assoc = nullptr;
    auto cleanup = [&]() {
        if (assoc) { ASC_destroyAssociation(&assoc); params = nullptr; }
        if (params) ASC_destroyAssociationParameters(&params);
        if (net) ASC_dropNetwork(&net);
    };

    if (cfg.tls != nullptr) {
        int failure = CDICOM_TLS_OK;
        std::string message;
        DcmTransportLayer *layer = cdicom::makeTLSLayer(*cfg.tls, NET_REQUESTOR, &failure, message);
        if (layer == nullptr) { cleanup(); return {CDICOM_SCU_CONNECTION_FAILED, "TLS: " + message}; }
        c = ASC_setTransportLayer(net, layer, 1);
        if (c.bad()) { delete layer; cleanup(); return {CDICOM_SCU_CONNECTION_FAILED, std::string("TLS: ") + c.text()}; }
    }
    c = ASC_createAssociationParameters(&params, cfg.max_pdu ? cfg.max_pdu : ASC_DEFAULTMAXPDU);
    if (c.good()) c = ASC_setTransportLayerType(params, cfg.tls != nullptr ? OFTrue : OFFalse);
    if (c.bad()) { cleanup(); return {CDICOM_SCU_CONNECTION_FAILED, c.text()}; }
    ASC_setAPTitles(params, cfg.calling_ae_title, cfg.called_ae_title, nullptr);
    const std::string peer = std::string(cfg.host ? cfg.host : "") + ":" + std::to_string(cfg.port);
    ASC_setPresentationAddresses(params, OFStandard::getHostName().c_str(), peer.c_str());

    // Presentation contexts: per SOP class, each distinct encoded transfer syntax on its own context,
    // then one context with explicit and implicit VR little endian.
    std::set<std::pair<std::string, std::string>> proposed;
    std::set<std::string> classes;
    T_ASC_PresentationContextID nextID = 1;
    const char *uncompressed[] = {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax};
    for (const Loaded &l : loaded) {
        if (!isUncompressed(l.transferSyntax) && proposed.insert({l.sopClass, l.transferSyntax}).second) {
            if (nextID > 255) { cleanup(); return {CDICOM_SCU_NO_PRESENTATION_CONTEXT, "more than 128 presentation contexts needed"}; }
            const char *ts[] = {l.transferSyntax.c_str()};
            ASC_addPresentationContext(params, nextID, l.sopClass.c_str(), ts, 1);
            nextID += 2;
        }
        if (classes.insert(l.sopClass).second) {
            if (nextID > 255) { cleanup(); return {CDICOM_SCU_NO_PRESENTATION_CONTEXT, "more than 128 presentation contexts needed"}; }
            ASC_addPresentationContext(params, nextID, l.sopClass.c_str(), uncompressed, 2);
            nextID += 2;
        }
    }

    {
        std::lock_guard<std::mutex> lock(connectMutex);
        dcmConnectionTimeout.set(timeout);
        c = ASC_requestAssociation(net, params, &assoc);
    }
    if (c.bad()) {
        Outcome o;
        if (c == DUL_ASSOCIATIONREJECTED) {
            T_ASC_RejectParameters rej;
            ASC_getRejectParameters(params, &rej);
            OFString text;
            ASC_printRejectParameters(text, &rej);
            o.code = rej.result == ASC_RESULT_REJECTEDPERMANENT ? CDICOM_SCU_REJECTED_PERMANENT : CDICOM_SCU_REJECTED_TRANSIENT;
            o.message = "association rejected by " + peer + ": " + text.c_str();
        } else {
            o.code = CDICOM_SCU_CONNECTION_FAILED;
            o.message = "cannot associate with " + peer + ": " + c.text();
        }
        cleanup();
        return o;
    }
    setNoDelay(assoc);

    // Every file needs an accepted context before anything is sent.
    std::vector<T_ASC_PresentationContextID> contexts(count, 0);
    for (size_t i = 0; i < count; ++i) {
        Loaded &l = loaded[i];
        T_ASC_PresentationContextID id = ASC_findAcceptedPresentationContextID(assoc, l.sopClass.c_str(), l.transferSyntax.c_str());
        if (id == 0) id = ASC_findAcceptedPresentationContextID(assoc, l.sopClass.c_str());
        if (id == 0) {
            ASC_releaseAssociation(assoc);
            cleanup();
            return {CDICOM_SCU_NO_PRESENTATION_CONTEXT, "SOP class " + l.sopClass + " not accepted by " + peer};
        }
        T_ASC_PresentationContext pc;
        ASC_findAcceptedPresentationContext(assoc->params, id, &pc);
        const std::string accepted = pc.acceptedTransferSyntax;
        if (accepted != l.transferSyntax) {
            // Convert to the accepted (uncompressed) syntax; compressed sources need the decoders
            // registered by cdicom_initialize.
            DcmXfer to(accepted.c_str());
            DcmDataset *d = l.file->getDataset();
            if (d->chooseRepresentation(to.getXfer(), nullptr).bad() || !d->canWriteXfer(to.getXfer())) {
                ASC_releaseAssociation(assoc);
                cleanup();
                return {CDICOM_SCU_NO_PRESENTATION_CONTEXT,
                        l.path + ": cannot convert " + l.transferSyntax + " to " + accepted + " accepted by " + peer};
            }
        }
        contexts[i] = id;
    }

    for (size_t i = 0; i < count; ++i) {
        Loaded &l = loaded[i];
        T_DIMSE_C_StoreRQ rq;
        memset(&rq, 0, sizeof rq);
        rq.MessageID = assoc->nextMsgID++;
        OFStandard::strlcpy(rq.AffectedSOPClassUID, l.sopClass.c_str(), sizeof rq.AffectedSOPClassUID);
        OFStandard::strlcpy(rq.AffectedSOPInstanceUID, l.sopInstance.c_str(), sizeof rq.AffectedSOPInstanceUID);
        rq.DataSetType = DIMSE_DATASET_PRESENT;
        rq.Priority = DIMSE_PRIORITY_MEDIUM;
        T_DIMSE_C_StoreRSP rsp;
        memset(&rsp, 0, sizeof rsp);
        DcmDataset *detail = nullptr;
        c = DIMSE_storeUser(assoc, contexts[i], &rq, nullptr, l.file->getDataset(), nullptr, nullptr, DIMSE_NONBLOCKING,
                            timeout, &rsp, &detail);
        delete detail;
        if (c.bad()) {
            std::string message = "C-STORE of " + l.path + " to " + peer + " failed: " + c.text();
            if (c != DUL_PEERABORTEDASSOCIATION) ASC_abortAssociation(assoc);
            cleanup();
            return {CDICOM_SCU_ABORTED, message};
        }
        statuses[i] = rsp.DimseStatus;
    }
    c = ASC_releaseAssociation(assoc);
    if (c.bad()) ASC_abortAssociation(assoc);  // every response is in: the outcome stands
    cleanup();
    return {CDICOM_SCU_OK, ""};
}

}  // namespace

int cdicom_scu_store(const cdicom_scu_config *config, const char *const *files, size_t file_count, uint16_t *statuses,
                     char *err, size_t err_len) {
    Outcome o = store(*config, files, file_count, statuses);
    if (o.code != CDICOM_SCU_OK) cdicom::copy(err, err_len, o.message.c_str());
    return o.code;
}
