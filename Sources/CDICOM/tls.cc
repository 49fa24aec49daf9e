// DICOM TLS (PS3.15 B.9: the BCP 195 TLS Secure Transport Connection Profile) on DCMTK's dcmtls:
// the transport layer the listener and the sender use, built from certificate, private key and
// trusted CAs, and the same construction as a check that loads everything without connecting.
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmtls/tlslayer.h"
#include "tls.h"
#include "util.h"

#include <sys/stat.h>

#include <memory>

namespace {

bool isDirectory(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool readable(const char *path, std::string &message) {
    struct stat st;
    if (stat(path, &st) != 0) { message = std::string("cannot read ") + path + ": " + strerror(errno); return false; }
    return true;
}

}  // namespace

DcmTransportLayer *cdicom::makeTLSLayer(const cdicom_tls_config &config, T_ASC_NetworkRole role, int *failure,
                                        std::string &message) {
    std::unique_ptr<DcmTLSTransportLayer> layer(new DcmTLSTransportLayer(role, nullptr, OFTrue));
    auto fail = [&](int code, const std::string &what) -> DcmTransportLayer * {
        *failure = code;
        message = what;
        return nullptr;
    };
    if (!*layer) return fail(CDICOM_TLS_UNAVAILABLE, "the TLS library could not be initialised");
    // BCP 195 (TLS 1.2 or later, its cipher suites); DCMTK 3.6.7's TSP_Profile_BCP195.
    OFCondition c = layer->setTLSProfile(TSP_Profile_BCP195);
    if (c.good()) c = layer->activateCipherSuites();
    if (c.bad()) return fail(CDICOM_TLS_UNAVAILABLE, std::string("BCP 195 profile: ") + c.text());
    const bool hasCertificate = config.certificate && *config.certificate;
    const bool hasKey = config.private_key && *config.private_key;
    if (hasCertificate) {
        if (!readable(config.certificate, message)) return fail(CDICOM_TLS_BAD_CERTIFICATE, message);
        c = layer->setCertificateFile(config.certificate, DCF_Filetype_PEM);
        if (c.bad()) return fail(CDICOM_TLS_BAD_CERTIFICATE, std::string("not a PEM certificate: ") + config.certificate);
    } else if (role == NET_ACCEPTOR || hasKey) {
        return fail(CDICOM_TLS_BAD_CERTIFICATE, "a certificate is required");
    }
    if (hasKey) {
        if (!readable(config.private_key, message)) return fail(CDICOM_TLS_BAD_PRIVATE_KEY, message);
        c = layer->setPrivateKeyFile(config.private_key, DCF_Filetype_PEM);
        if (c.bad())
            return fail(CDICOM_TLS_BAD_PRIVATE_KEY, std::string("not an unencrypted PEM private key: ") + config.private_key);
        if (!layer->checkPrivateKeyMatchesCertificate())
            return fail(CDICOM_TLS_BAD_PRIVATE_KEY, std::string(config.private_key) + " is not the key of " + config.certificate);
    } else if (hasCertificate) {
        return fail(CDICOM_TLS_BAD_PRIVATE_KEY, "a private key is required with a certificate");
    }
    for (size_t i = 0; i < config.trusted_certificate_count; ++i) {
        const char *path = config.trusted_certificates[i];
        if (!readable(path, message)) return fail(CDICOM_TLS_BAD_TRUSTED_CERTIFICATES, message);
        c = isDirectory(path) ? layer->addTrustedCertificateDir(path, DCF_Filetype_PEM)
                              : layer->addTrustedCertificateFile(path, DCF_Filetype_PEM);
        if (c.bad()) return fail(CDICOM_TLS_BAD_TRUSTED_CERTIFICATES, std::string("cannot load ") + path + ": " + c.text());
    }
    if (config.require_peer_certificate && config.trusted_certificate_count == 0)
        return fail(CDICOM_TLS_BAD_TRUSTED_CERTIFICATES, "a peer certificate is required, so at least one trusted CA is");
    // Required: a peer without a certificate a trusted CA signed is refused. Otherwise a certificate
    // the peer presents is still verified (an invalid one is refused), but none is needed.
    layer->setCertificateVerification(config.require_peer_certificate ? DCV_requireCertificate : DCV_checkCertificate);
    *failure = CDICOM_TLS_OK;
    return layer.release();
}

int cdicom_tls_check(const cdicom_tls_config *config, int server, char *err, size_t err_len) {
    int failure = CDICOM_TLS_OK;
    std::string message;
    DcmTransportLayer *layer = cdicom::makeTLSLayer(*config, server ? NET_ACCEPTOR : NET_REQUESTOR, &failure, message);
    delete layer;
    if (failure != CDICOM_TLS_OK) cdicom::copy(err, err_len, message.c_str());
    return failure;
}
