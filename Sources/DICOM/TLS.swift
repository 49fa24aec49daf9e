import CDICOM
import Records

/// DICOM TLS (the BCP 195 profile) as CDICOM takes it, and the check that loads the settings the way
/// the listener or the sender would, so that a bad file is reported before anything listens or sends.
public enum DICOMTLS {
    public enum Role: Sendable { case listener, sender }

    /// Why the settings cannot be loaded, starting with the key at fault (`private_key: …`), or nil.
    public static func problem(_ settings: TLSSettings, role: Role) -> String? {
        DICOMLibrary.initialize()
        let arena = CStringArena()
        var config = arena.tls(settings)
        var err = [CChar](repeating: 0, count: 512)
        let rc = Int(cdicom_tls_check(&config, role == .listener ? 1 : 0, &err, err.count))
        guard rc != Int(CDICOM_TLS_OK) else { return nil }
        let key: TLSSettings.CodingKeys?
        switch rc {
        case Int(CDICOM_TLS_BAD_CERTIFICATE): key = .certificate
        case Int(CDICOM_TLS_BAD_PRIVATE_KEY): key = .privateKey
        case Int(CDICOM_TLS_BAD_TRUSTED_CERTIFICATES): key = .trustedCertificates
        default: key = nil
        }
        return (key.map { "\($0.rawValue): " } ?? "") + String(cString: err)
    }
}

extension CStringArena {
    /// The settings as a C struct whose strings live as long as the arena.
    func tls(_ s: TLSSettings) -> cdicom_tls_config {
        cdicom_tls_config(certificate: c(s.certificate), private_key: c(s.privateKey),
                          trusted_certificates: cArray(s.trustedCertificates),
                          trusted_certificate_count: s.trustedCertificates.count,
                          require_peer_certificate: s.requirePeerCertificate ? 1 : 0)
    }
}
