import CDICOM
import Foundation
import Records

public enum StoreSCUError: Error, CustomStringConvertible, Equatable {
    /// No association: the TCP connection failed, timed out, or the peer answered nothing (transient).
    case connectionFailed(String)
    /// A-ASSOCIATE-RJ; `permanent` when the result was rejected-permanent (do not retry as is).
    case associationRejected(permanent: Bool, reason: String)
    /// A file's SOP class (or transfer syntax) was not accepted; nothing was sent.
    case noPresentationContext(String)
    /// The association broke off while sending (A-ABORT, network, DIMSE timeout).
    case aborted(String)

    public var description: String {
        switch self {
        case let .connectionFailed(m): return "connection failed: \(m)"
        case let .associationRejected(p, r): return "association rejected (\(p ? "permanent" : "transient")): \(r)"
        case let .noPresentationContext(m): return "no presentation context: \(m)"
        case let .aborted(m): return "aborted: \(m)"
        }
    }
}

/// C-STORE service class user on DCMTK, TCP_NODELAY on the association's socket.
public enum StoreSCU {
    /// One association (DICOM TLS when `peer.tls` is set); returns one status per file (in order). Proposes each file's SOP class with
    /// its own transfer syntax (plus explicit/implicit VR little endian). A file that cannot be read
    /// throws `DICOMError` before anything is sent.
    public static func send(files: [String], to peer: DicomPeer, callingAETitle: String,
                            timeoutSeconds: Int = 30) throws -> [DIMSEStatus] {
        DICOMLibrary.initialize()
        guard !files.isEmpty else { return [] }
        guard (1...65535).contains(peer.port) else { throw StoreSCUError.connectionFailed("invalid port \(peer.port)") }
        let arena = CStringArena()
        var config = cdicom_scu_config()
        config.calling_ae_title = arena.c(callingAETitle)
        config.called_ae_title = arena.c(peer.aeTitle)
        config.host = arena.c(peer.host)
        config.port = UInt16(peer.port)
        config.timeout_seconds = Int32(clamping: max(1, timeoutSeconds))
        config.max_pdu = 65536
        let paths = files.map { arena.c($0) }
        var statuses = [UInt16](repeating: 0, count: files.count)
        var err = [CChar](repeating: 0, count: 1024)
        var tls = peer.tls.map { arena.tls($0) }
        let rc = withOptionalPointer(&tls) { tlsPointer in
            config.tls = tlsPointer
            return paths.withUnsafeBufferPointer { p in
                statuses.withUnsafeMutableBufferPointer { s in
                    cdicom_scu_store(&config, p.baseAddress, p.count, s.baseAddress, &err, err.count)
                }
            }
        }
        let message = String(cString: err)
        switch Int(rc) {
        case Int(CDICOM_SCU_OK): return statuses.map(DIMSEStatus.init(rawValue:))
        case Int(CDICOM_SCU_CONNECTION_FAILED): throw StoreSCUError.connectionFailed(message)
        case Int(CDICOM_SCU_REJECTED_PERMANENT): throw StoreSCUError.associationRejected(permanent: true, reason: message)
        case Int(CDICOM_SCU_REJECTED_TRANSIENT): throw StoreSCUError.associationRejected(permanent: false, reason: message)
        case Int(CDICOM_SCU_NO_PRESENTATION_CONTEXT): throw StoreSCUError.noPresentationContext(message)
        case Int(CDICOM_SCU_ABORTED): throw StoreSCUError.aborted(message)
        default: throw DICOMError("store SCU: " + message)
        }
    }
}
