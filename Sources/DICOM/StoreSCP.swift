import CDICOM
import Foundation
import Records

/// Who is asking for an association.
public struct AssociationInfo: Sendable {
    public let callingAETitle: String
    public let calledAETitle: String
    public let peerHost: String
    public let id: UInt64
}

/// A C-STORE request as the command announced it.
public struct StoreRequest: Sendable {
    public let association: AssociationInfo
    public let affectedSOPClassUID: String
    public let affectedSOPInstanceUID: String
    public let transferSyntaxUID: String
    public let messageID: UInt16
}

/// Before a data set is read: where to receive it, or the status that refuses it.
public enum StoreBeginDecision: Sendable {
    case receive(intoTemporaryPath: String)
    case refuse(DIMSEStatus)
}

public enum AssociationDecision: Sendable {
    case accept
    case rejectCalledAETitle
    case rejectCallingAETitle
    case rejectNoReason
}

/// What the storage SCP asks of its owner. Called on the association's thread: the calls for one
/// association are sequential, those of different associations run in parallel.
public protocol StoreSCPDelegate: AnyObject, Sendable {
    func shouldAccept(_ association: AssociationInfo) -> AssociationDecision
    /// Before the data set is read: a temporary path to receive it into, or a refusal status.
    func storeWillBegin(_ request: StoreRequest) -> StoreBeginDecision
    /// The data set is complete in `temporaryPath` (not yet fsync'd); the delegate owns the file now.
    /// Return success only once the instance is durable.
    func storeDidEnd(_ request: StoreRequest, temporaryPath: String) -> DIMSEStatus
    /// The association is over (released, aborted, timed out or broken off); no call for it follows.
    func associationDidEnd(_ association: AssociationInfo)
    /// A connection refused before any association: a failed TLS handshake or a malformed request.
    func connectionRefused(peerHost: String, reason: String)
    func log(level: Int, _ message: String)
}

public struct StoreSCPConfiguration: Sendable {
    public var aeTitle: String
    public var port: UInt16
    /// The TLS listener's port and settings; nil: no TLS listener. `port` 0: TLS only.
    public var tls: (port: UInt16, settings: TLSSettings)?
    public var maxAssociations: Int
    /// Associations at once from one remote host; more get A-ASSOCIATE-RJ (transient).
    public var maxAssociationsPerPeer: Int
    public var acseTimeoutSeconds: Int
    public var dimseTimeoutSeconds: Int
    public var maxPDU: UInt32
    public var sopClasses: [String]
    public var transferSyntaxes: [String]

    public init(aeTitle: String, port: UInt16, maxAssociations: Int = 32, maxAssociationsPerPeer: Int = 16,
                acseTimeoutSeconds: Int = 30,
                dimseTimeoutSeconds: Int = 60, maxPDU: UInt32 = 65536,
                sopClasses: [String] = SOPClass.acceptedStorage,
                transferSyntaxes: [String] = TransferSyntax.accepted) {
        self.aeTitle = aeTitle; self.port = port; self.tls = nil; self.maxAssociations = maxAssociations
        self.maxAssociationsPerPeer = maxAssociationsPerPeer
        self.acseTimeoutSeconds = acseTimeoutSeconds; self.dimseTimeoutSeconds = dimseTimeoutSeconds
        self.maxPDU = maxPDU; self.sopClasses = sopClasses; self.transferSyntaxes = transferSyntaxes
    }
}

/// The C-ECHO/C-STORE service class provider: DCMTK underneath, one thread per association.
public final class StoreSCP: @unchecked Sendable {
    private var handle: OpaquePointer?
    private let box: Unmanaged<DelegateBox>

    public init(configuration: StoreSCPConfiguration, delegate: StoreSCPDelegate) throws {
        DICOMLibrary.initialize()
        box = Unmanaged.passRetained(DelegateBox(delegate))
        var callbacks = cdicom_scp_callbacks()
        callbacks.context = box.toOpaque()
        callbacks.accept_association = { ctx, info in
            let d = Unmanaged<DelegateBox>.fromOpaque(ctx!).takeUnretainedValue().delegate
            switch d.shouldAccept(AssociationInfo(info!.pointee)) {
            case .accept: return Int32(CDICOM_ACCEPT)
            case .rejectCalledAETitle: return Int32(CDICOM_REJECT_CALLED_AE)
            case .rejectCallingAETitle: return Int32(CDICOM_REJECT_CALLING_AE)
            case .rejectNoReason: return Int32(CDICOM_REJECT_NO_REASON)
            }
        }
        callbacks.store_begin = { ctx, req, tmp, tmpLen in
            let d = Unmanaged<DelegateBox>.fromOpaque(ctx!).takeUnretainedValue().delegate
            switch d.storeWillBegin(StoreRequest(req!.pointee)) {
            case .refuse(let status): return status.rawValue
            case .receive(let path):
                let bytes = Array(path.utf8CString)
                guard bytes.count <= tmpLen else { return DIMSEStatus.processingFailure.rawValue }
                bytes.withUnsafeBufferPointer { tmp!.update(from: $0.baseAddress!, count: bytes.count) }
                return 0
            }
        }
        callbacks.store_end = { ctx, req, tmp in
            let d = Unmanaged<DelegateBox>.fromOpaque(ctx!).takeUnretainedValue().delegate
            return d.storeDidEnd(StoreRequest(req!.pointee), temporaryPath: String(cString: tmp!)).rawValue
        }
        callbacks.association_ended = { ctx, info in
            let d = Unmanaged<DelegateBox>.fromOpaque(ctx!).takeUnretainedValue().delegate
            d.associationDidEnd(AssociationInfo(info!.pointee))
        }
        callbacks.connection_refused = { ctx, host, reason in
            let d = Unmanaged<DelegateBox>.fromOpaque(ctx!).takeUnretainedValue().delegate
            d.connectionRefused(peerHost: String(cString: host!), reason: String(cString: reason!))
        }
        callbacks.log = { ctx, level, message in
            let d = Unmanaged<DelegateBox>.fromOpaque(ctx!).takeUnretainedValue().delegate
            d.log(level: Int(level), String(cString: message!))
        }
        var err = [CChar](repeating: 0, count: 512)
        let arena = CStringArena()
        let classes = arena.array(configuration.sopClasses)
        let syntaxes = arena.array(configuration.transferSyntaxes)
        let created: OpaquePointer? = classes.withUnsafeBufferPointer { classes in
            syntaxes.withUnsafeBufferPointer { syntaxes in
                var tls = configuration.tls.map { arena.tls($0.settings) }
                return withOptionalPointer(&tls) { tlsPointer in
                    var config = cdicom_scp_config(
                        ae_title: arena.c(configuration.aeTitle), port: configuration.port,
                        tls_port: configuration.tls?.port ?? 0, tls: tlsPointer,
                        max_associations: Int32(configuration.maxAssociations),
                        max_associations_per_peer: Int32(configuration.maxAssociationsPerPeer),
                        acse_timeout_seconds: Int32(configuration.acseTimeoutSeconds),
                        dimse_timeout_seconds: Int32(configuration.dimseTimeoutSeconds), max_pdu: configuration.maxPDU,
                        sop_classes: classes.baseAddress, sop_class_count: classes.count,
                        transfer_syntaxes: syntaxes.baseAddress, transfer_syntax_count: syntaxes.count)
                    return cdicom_scp_create(&config, &callbacks, &err, err.count)
                }
            }
        }
        // On failure deinit still runs (the object is fully initialised) and releases the box.
        guard let created else { throw DICOMError(String(cString: err)) }
        handle = created
    }

    deinit {
        cdicom_scp_destroy(handle)
        box.release()
    }

    /// Accepts associations until `stop()`; then lets those in flight finish for up to `graceSeconds`.
    /// Blocks: call it from a dedicated thread.
    @discardableResult
    public func run(graceSeconds: Int) -> Bool { cdicom_scp_run(handle, Int32(graceSeconds)) == 0 }

    public func stop() { cdicom_scp_stop(handle) }

    /// Associations open now.
    public var activeAssociations: Int { Int(cdicom_scp_active_associations(handle)) }
}

private final class DelegateBox {
    let delegate: StoreSCPDelegate
    init(_ delegate: StoreSCPDelegate) { self.delegate = delegate }
}

extension AssociationInfo {
    init(_ c: cdicom_association_info) {
        self.init(callingAETitle: String(cString: c.calling_ae_title).trimmingCharacters(in: .whitespaces),
                  calledAETitle: String(cString: c.called_ae_title).trimmingCharacters(in: .whitespaces),
                  peerHost: String(cString: c.peer_host), id: c.association_id)
    }
}

extension StoreRequest {
    init(_ c: cdicom_store_request) {
        self.init(association: AssociationInfo(c.association.pointee),
                  affectedSOPClassUID: String(cString: c.affected_sop_class_uid),
                  affectedSOPInstanceUID: String(cString: c.affected_sop_instance_uid),
                  transferSyntaxUID: String(cString: c.transfer_syntax_uid), messageID: c.message_id)
    }
}
