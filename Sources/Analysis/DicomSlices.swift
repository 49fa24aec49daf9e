import DICOM
import Foundation

/// DICOM files → `SourceSlice`s: pixels decoded by DCMTK whatever the transfer syntax, rescale
/// applied, geometry from ImagePositionPatient / ImageOrientationPatient / PixelSpacing.
public enum DicomSlices {
    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func load(paths: [String]) throws -> [SourceSlice] {
        try paths.map(load(path:))
    }

    public static func load(path: String) throws -> SourceSlice {
        let ds = try DicomDataset(path: path, headerOnly: false)
        let info = ds.imageInfo
        guard info.rows > 0, info.columns > 0 else { throw LoadError(description: "\(path): no pixel data") }
        guard info.frames == 1 else {
            throw LoadError(description: "\(path): multi-frame images (\(info.frames) frames) are not analysed; send single-frame slices")
        }
        guard let sop = ds.text(.sopInstanceUID) else { throw LoadError(description: "\(path): SOPInstanceUID missing") }
        let pixels = try ds.decodeFrame(0)
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
