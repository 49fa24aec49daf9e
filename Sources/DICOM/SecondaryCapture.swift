import CDICOM
import Foundation

/// A rendered key image to store as a Secondary Capture in the analysed study.
public struct KeyImage: Sendable {
    /// A received instance of the analysed series: patient/study modules are copied from it.
    public var sourceInstancePath: String
    /// Interleaved RGB (R, G, B per pixel, row by row), `rows * columns * 3` bytes.
    public var rgb: [UInt8]
    public var rows: Int
    public var columns: Int
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var sopInstanceUID: String
    public var seriesNumber: Int
    public var seriesDescription: String
    public var instanceNumber: Int
    /// SourceImageSequence (the middle slice).
    public var derivedFrom: ReferencedInstance
    public var contentDateTime: Date
    public var manufacturer: String
    public var modelName: String?
    public var softwareVersion: String?
    public var derivationDescription: String?

    public init(sourceInstancePath: String, rgb: [UInt8], rows: Int, columns: Int, studyInstanceUID: String,
                seriesInstanceUID: String, sopInstanceUID: String, seriesNumber: Int, seriesDescription: String,
                instanceNumber: Int = 1, derivedFrom: ReferencedInstance, contentDateTime: Date = Date(),
                manufacturer: String = "lstv-node", modelName: String? = nil, softwareVersion: String? = nil,
                derivationDescription: String? = nil) {
        self.sourceInstancePath = sourceInstancePath
        self.rgb = rgb
        self.rows = rows
        self.columns = columns
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.sopInstanceUID = sopInstanceUID
        self.seriesNumber = seriesNumber
        self.seriesDescription = seriesDescription
        self.instanceNumber = instanceNumber
        self.derivedFrom = derivedFrom
        self.contentDateTime = contentDateTime
        self.manufacturer = manufacturer
        self.modelName = modelName
        self.softwareVersion = softwareVersion
        self.derivationDescription = derivationDescription
    }
}

/// Writes Secondary Capture Image Storage instances: RGB, PlanarConfiguration 0, BurnedInAnnotation
/// YES, ImageType DERIVED\SECONDARY, ConversionType WSD, explicit VR little endian.
public enum SecondaryCaptureWriter {
    public static func write(_ image: KeyImage, to path: String) throws {
        DICOMLibrary.initialize()
        guard image.rows > 0, image.columns > 0, image.rows <= 65535, image.columns <= 65535 else {
            throw DICOMError("secondary capture: \(image.rows)x\(image.columns) is not a valid image size")
        }
        guard image.rgb.count == image.rows * image.columns * 3 else {
            throw DICOMError("secondary capture: \(image.rgb.count) bytes for \(image.rows)x\(image.columns) RGB")
        }
        try UID.requireValid([image.studyInstanceUID, image.seriesInstanceUID, image.sopInstanceUID,
                              image.derivedFrom.sopInstanceUID], for: "secondary capture")
        let arena = CStringArena()
        let dt = DicomDateTime(image.contentDateTime)
        var c = cdicom_sc_image()
        c.source_path = arena.c(image.sourceInstancePath)
        c.rows = UInt32(image.rows)
        c.columns = UInt32(image.columns)
        c.study_instance_uid = arena.c(image.studyInstanceUID)
        c.series_instance_uid = arena.c(image.seriesInstanceUID)
        c.sop_instance_uid = arena.c(image.sopInstanceUID)
        c.series_number = Int32(clamping: image.seriesNumber)
        c.series_description = arena.c(String(image.seriesDescription.prefix(64)))
        c.instance_number = Int32(clamping: image.instanceNumber)
        c.derived_from = arena.ref(image.derivedFrom)
        c.content_date = arena.c(dt.date)
        c.content_time = arena.c(dt.time)
        c.timezone_offset = arena.c(dt.offset)
        c.manufacturer = arena.c(image.manufacturer)
        c.model_name = arena.c(image.modelName)
        c.software_version = arena.c(image.softwareVersion)
        c.derivation_description = arena.c(image.derivationDescription)
        var err = [CChar](repeating: 0, count: 1024)
        let rc = image.rgb.withUnsafeBufferPointer { px -> Int32 in
            c.rgb = px.baseAddress
            return cdicom_sc_write(&c, path, &err, err.count)
        }
        guard rc == 0 else { throw DICOMError("secondary capture: " + String(cString: err)) }
    }
}
