import DICOM
import Foundation

/// DICOM files → `SourceSlice`s: pixels decoded by DCMTK whatever the transfer syntax, rescale
/// applied, geometry from ImagePositionPatient / ImageOrientationPatient / PixelSpacing — top-level
/// for a single-frame instance, from the functional groups for each frame of an enhanced
/// multi-frame one (`EnhancedFrames`).
public enum DicomSlices {
    /// A file that gives no slice, with the reason (`SliceExclusion.Reason`), the file's path and,
    /// when the file could be parsed, its SOP Instance UID.
    public struct LoadError: Error, CustomStringConvertible {
        public let path: String
        public var sopInstanceUID: String?
        public let reason: SliceExclusion.Reason
        public var description: String { "\(path): \(reason)" }
    }

    /// Every file's slices: the first file that gives none throws (`SeriesSlices.load` leaves such
    /// files out instead).
    public static func load(paths: [String], stackChoice: StackChoice = EnhancedFrames.largestStack) throws -> [SourceSlice] {
        try paths.flatMap { try slices(path: $0, stackChoice: stackChoice) }
    }

    /// The slices of one file: its one slice, or the frames of the stack an enhanced multi-frame
    /// image holds that `stackChoice` picks (`EnhancedFrames.slices`).
    public static func slices(path: String, stackChoice: StackChoice = EnhancedFrames.largestStack) throws -> [SourceSlice] {
        let file = try open(path)
        if file.info.frames > 1 || EnhancedFrames.isEnhanced(file.dataset) {
            guard EnhancedFrames.isEnhanced(file.dataset) else {
                throw LoadError(path: path, sopInstanceUID: file.sop, reason: .multiFrame(frames: file.info.frames))
            }
            return try EnhancedFrames.slices(file.dataset, frames: file.info, sopInstanceUID: file.sop, path: path,
                                             choice: stackChoice)
        }
        return [try single(file)]
    }

    struct OpenFile { let dataset: DicomDataset, info: DicomDataset.ImageInfo, sop: String, path: String }

    private static func open(_ path: String) throws -> OpenFile {
        let ds: DicomDataset
        do { ds = try DicomDataset(path: path, headerOnly: false) } catch {
            throw LoadError(path: path, reason: .unreadable("\(error)"))
        }
        let uid = ds.text(.sopInstanceUID)
        let info = ds.imageInfo
        guard info.rows > 0, info.columns > 0 else { throw LoadError(path: path, sopInstanceUID: uid, reason: .noPixelData) }
        guard let sop = uid else { throw LoadError(path: path, reason: .unreadable("SOPInstanceUID missing")) }
        return OpenFile(dataset: ds, info: info, sop: sop, path: path)
    }

    private static func single(_ file: OpenFile) throws -> SourceSlice {
        let ds = file.dataset
        let pixels: [Float]
        do { pixels = try ds.decodeFrame(0) } catch {
            throw LoadError(path: file.path, sopInstanceUID: file.sop, reason: .unreadable("\(error)"))
        }
        return SourceSlice(pixels: pixels, rows: file.info.rows, columns: file.info.columns,
                           imagePositionPatient: position(ds.doubles(.imagePositionPatient)),
                           imageOrientationPatient: orientation(ds.doubles(.imageOrientationPatient)),
                           pixelSpacing: spacing(ds.doubles(.pixelSpacing)), instanceNumber: ds.int(.instanceNumber),
                           sopInstanceUID: file.sop)
    }

    static func position(_ v: [Double]?) -> SIMD3<Double>? {
        v.flatMap { $0.count == 3 ? SIMD3($0[0], $0[1], $0[2]) : nil }
    }

    static func orientation(_ v: [Double]?) -> ImageOrientation? {
        v.flatMap { $0.count == 6 ? ImageOrientation(row: SIMD3($0[0], $0[1], $0[2]), column: SIMD3($0[3], $0[4], $0[5])) : nil }
    }

    static func spacing(_ v: [Double]?) -> PixelSpacing? {
        v.flatMap { $0.count == 2 ? PixelSpacing(row: $0[0], column: $0[1]) : nil }
    }
}
