import DICOM
import Foundation

/// DICOM files → `SourceSlice`s: pixels decoded by DCMTK whatever the transfer syntax, rescale
/// applied, geometry from ImagePositionPatient / ImageOrientationPatient / PixelSpacing.
public enum DicomSlices {
    /// A file that gives no slice, with the reason (`SliceExclusion.Reason`), the file's path and,
    /// when the file could be parsed, its SOP Instance UID.
    public struct LoadError: Error, CustomStringConvertible {
        public let path: String
        public var sopInstanceUID: String?
        public let reason: SliceExclusion.Reason
        public var description: String { "\(path): \(reason)" }
    }

    /// Every file as a slice: the first that gives none throws (`SeriesSlices.load` leaves such
    /// files out instead).
    public static func load(paths: [String]) throws -> [SourceSlice] {
        try paths.map(load(path:))
    }

    public static func load(path: String) throws -> SourceSlice {
        let ds: DicomDataset
        do { ds = try DicomDataset(path: path, headerOnly: false) } catch {
            throw LoadError(path: path, reason: .unreadable("\(error)"))
        }
        let uid = ds.text(.sopInstanceUID)
        let info = ds.imageInfo
        guard info.rows > 0, info.columns > 0 else { throw LoadError(path: path, sopInstanceUID: uid, reason: .noPixelData) }
        guard info.frames == 1 else { throw LoadError(path: path, sopInstanceUID: uid, reason: .multiFrame(frames: info.frames)) }
        guard let sop = uid else { throw LoadError(path: path, reason: .unreadable("SOPInstanceUID missing")) }
        let pixels: [Float]
        do { pixels = try ds.decodeFrame(0) } catch { throw LoadError(path: path, sopInstanceUID: sop, reason: .unreadable("\(error)")) }
        let ipp = ds.doubles(.imagePositionPatient).flatMap { $0.count == 3 ? SIMD3($0[0], $0[1], $0[2]) : nil }
        let iop = ds.doubles(.imageOrientationPatient).flatMap {
            $0.count == 6 ? ImageOrientation(row: SIMD3($0[0], $0[1], $0[2]), column: SIMD3($0[3], $0[4], $0[5])) : nil
        }
        let spacing = ds.doubles(.pixelSpacing).flatMap { $0.count == 2 ? PixelSpacing(row: $0[0], column: $0[1]) : nil }
        return SourceSlice(pixels: pixels, rows: info.rows, columns: info.columns, imagePositionPatient: ipp,
                           imageOrientationPatient: iop, pixelSpacing: spacing, instanceNumber: ds.int(.instanceNumber),
                           sopInstanceUID: sop)
    }
}
