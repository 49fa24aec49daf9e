/// What happened to one uploaded instance: the DIMSE status its C-STORE would have had (0x0000
/// stored; 0x0122, 0xA700, 0xA900, 0xC000, 0x0110 the refusals), its UIDs when readable, and why.
public struct UploadOutcome: Sendable {
    public var status: UInt16
    public var sopClassUID: String?
    public var sopInstanceUID: String?
    public var studyInstanceUID: String?
    public var seriesInstanceUID: String?
    public var reason: String?
    /// For the audit trail only (never in the response): whose study it is.
    public var patientID: String?
    public var accessionNumber: String?
    public init(status: UInt16, sopClassUID: String?, sopInstanceUID: String?, studyInstanceUID: String?,
                seriesInstanceUID: String? = nil, reason: String?, patientID: String? = nil, accessionNumber: String? = nil) {
        self.status = status; self.sopClassUID = sopClassUID; self.sopInstanceUID = sopInstanceUID
        self.studyInstanceUID = studyInstanceUID; self.seriesInstanceUID = seriesInstanceUID; self.reason = reason
        self.patientID = patientID; self.accessionNumber = accessionNumber
    }
    public var stored: Bool { status == 0 }
}

/// Where STOW-RS hands uploads: the node's ingest, with C-STORE's checks and durability.
public protocol InstanceReceiver: Sendable {
    /// Below the free-disk threshold nothing is taken (C-STORE answers A700 then).
    var refusesForLackOfDisk: Bool { get }
    /// A fresh temporary file in the spool's incoming folder for one part.
    func temporaryPath() -> String
    /// Takes the part written to `path` (Part 10 with its meta header): stored durably and queued,
    /// or refused; `path` is gone either way.
    func receive(temporaryPath path: String, uploader: String) -> UploadOutcome
    /// One upload request is done: its stored instances go into the audit trail, study by study.
    func uploadFinished(_ outcomes: [UploadOutcome], uploader: String)
}
