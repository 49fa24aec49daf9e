/// DICOM TLS for one end of an association (the BCP 195 profile): this end's certificate and key,
/// the CAs whose certificates the peer may present, and whether the peer must present one. The
/// listener's `tls:` section and a destination's `tls:` mapping hold it.
public struct TLSSettings: Codable, Sendable, Equatable, Hashable {
    /// PEM file: this end's certificate (required for the listener; for a destination only when it
    /// asks for a client certificate).
    public var certificate: String?
    /// PEM file: the certificate's private key, unencrypted.
    public var privateKey: String?
    /// PEM files, or directories of hashed PEM files (c_rehash), of trusted CAs.
    public var trustedCertificates: [String]
    /// A peer without a certificate a trusted CA signed is refused; otherwise one it presents is
    /// still verified, but none is needed.
    public var requirePeerCertificate: Bool

    public init(certificate: String? = nil, privateKey: String? = nil, trustedCertificates: [String] = [],
                requirePeerCertificate: Bool = true) {
        self.certificate = certificate; self.privateKey = privateKey
        self.trustedCertificates = trustedCertificates; self.requirePeerCertificate = requirePeerCertificate
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case certificate, privateKey = "private_key", trustedCertificates = "trusted_certificates"
        case requirePeerCertificate = "require_peer_certificate"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        certificate = try c.decodeIfPresent(String.self, forKey: .certificate)
        privateKey = try c.decodeIfPresent(String.self, forKey: .privateKey)
        trustedCertificates = try c.decodeIfPresent([String].self, forKey: .trustedCertificates) ?? []
        requirePeerCertificate = try c.decodeIfPresent(Bool.self, forKey: .requirePeerCertificate) ?? true
    }
}
