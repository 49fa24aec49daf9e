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
    public var instance: CreatedInstance
    /// SourceImageSequence (the middle slice).
    public var derivedFrom: ReferencedInstance
    public var derivationDescription: String?

    public init(sourceInstancePath: String, rgb: [UInt8], rows: Int, columns: Int, instance: CreatedInstance,
                derivedFrom: ReferencedInstance, derivationDescription: String? = nil) {
        self.sourceInstancePath = sourceInstancePath; self.rgb = rgb; self.rows = rows; self.columns = columns
        self.instance = instance; self.derivedFrom = derivedFrom; self.derivationDescription = derivationDescription
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
        try UID.requireValid(image.instance.uids + [image.derivedFrom.sopInstanceUID], for: "secondary capture")
        let arena = CStringArena()
        var c = cdicom_sc_image()
        c.source_path = arena.c(image.sourceInstancePath)
        c.rows = UInt32(image.rows)
        c.columns = UInt32(image.columns)
        c.instance = image.instance.c(arena)
        c.derived_from = arena.ref(image.derivedFrom)
        c.derivation_description = arena.c(image.derivationDescription)
        var err = [CChar](repeating: 0, count: 1024)
        let rc = image.rgb.withUnsafeBufferPointer { px -> Int32 in
            c.rgb = px.baseAddress
            return cdicom_sc_write(&c, path, &err, err.count)
        }
        guard rc == 0 else { throw DICOMError("secondary capture: " + String(cString: err)) }
    }
}
