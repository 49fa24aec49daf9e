import CDICOM
import Foundation

/// What every object the node creates says about itself: its place in the analysed study (General
/// Series, SOP Common, content date and time) and the equipment that made it (General Equipment).
public struct CreatedInstance: Sendable {
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var sopInstanceUID: String
    public var seriesNumber: Int
    /// Written up to 64 characters (the LO limit).
    public var seriesDescription: String
    public var instanceNumber: Int
    public var contentDateTime: Date
    public var manufacturer: String
    public var modelName: String?
    public var softwareVersion: String?

    public init(studyInstanceUID: String, seriesInstanceUID: String, sopInstanceUID: String, seriesNumber: Int,
                seriesDescription: String, instanceNumber: Int = 1, contentDateTime: Date = Date(),
                manufacturer: String = "lstv-node", modelName: String? = nil, softwareVersion: String? = nil) {
        self.studyInstanceUID = studyInstanceUID; self.seriesInstanceUID = seriesInstanceUID
        self.sopInstanceUID = sopInstanceUID; self.seriesNumber = seriesNumber
        self.seriesDescription = seriesDescription; self.instanceNumber = instanceNumber
        self.contentDateTime = contentDateTime; self.manufacturer = manufacturer
        self.modelName = modelName; self.softwareVersion = softwareVersion
    }

    var uids: [String] { [studyInstanceUID, seriesInstanceUID, sopInstanceUID] }

    /// The C form, its strings owned by `arena`.
    func c(_ arena: CStringArena) -> cdicom_new_instance {
        let dt = DicomDateTime(contentDateTime)
        var c = cdicom_new_instance()
        c.study_instance_uid = arena.c(studyInstanceUID)
        c.series_instance_uid = arena.c(seriesInstanceUID)
        c.sop_instance_uid = arena.c(sopInstanceUID)
        c.series_number = Int32(clamping: seriesNumber)
        c.series_description = arena.c(String(seriesDescription.prefix(64)))
        c.instance_number = Int32(clamping: instanceNumber)
        c.content_date = arena.c(dt.date)
        c.content_time = arena.c(dt.time)
        c.timezone_offset = arena.c(dt.offset)
        c.manufacturer = arena.c(manufacturer)
        c.model_name = arena.c(modelName)
        c.software_version = arena.c(softwareVersion)
        return c
    }
}

/// DICOM DA, TM (microseconds) and the UTC offset of a moment in the process's time zone.
struct DicomDateTime {
    let date: String
    let time: String
    let offset: String

    init(_ d: Date, timeZone: TimeZone = .current) {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = timeZone
        let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second], from: d)
        let whole = d.timeIntervalSince1970.rounded(.down)
        let micros = min(999_999, Int(((d.timeIntervalSince1970 - whole) * 1_000_000).rounded()))
        date = String(format: "%04d%02d%02d", c.year!, c.month!, c.day!)
        time = String(format: "%02d%02d%02d.%06d", c.hour!, c.minute!, c.second!, micros)
        let seconds = timeZone.secondsFromGMT(for: d)
        let minutes = abs(seconds) / 60
        offset = String(format: "%@%02d%02d", seconds < 0 ? "-" : "+", minutes / 60, minutes % 60)
    }
}
