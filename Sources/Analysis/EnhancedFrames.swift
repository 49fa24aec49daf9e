import DICOM
import Foundation

// An enhanced multi-frame image (Enhanced MR Image Storage, Legacy Converted Enhanced MR Image
// Storage) holds a whole series in one instance: each frame becomes a slice, its geometry from the
// functional groups (PS3.3 C.7.6.16) — Plane Position (Patient), Plane Orientation (Patient), Pixel
// Measures, Pixel Value Transformation — shared or per frame.

public enum EnhancedFrames {
    /// Whether the image describes its frames with functional groups: frame 1 has a position.
    static func isEnhanced(_ ds: DicomDataset) -> Bool {
        ds.frameText(0, .planePositionSequence, .imagePositionPatient) != nil
    }

    /// Which stack a frame belongs to. One instance may hold several stacks (Frame Content's StackID)
    /// or echoes (MR Echo's EffectiveEchoTime); they are not one volume.
    struct StackKey: Hashable { let stackID: String?, echoTime: Double? }

    /// The frames of the largest stack (ties: the one whose first frame comes first), each a slice
    /// named by the instance's SOP Instance UID and its 1-based frame number. The series' routing
    /// descriptors are read from frame 1 (`InstanceHeader`), so an instance whose stacks the routing
    /// rules would tell apart is analysed as its largest stack.
    static func slices(_ ds: DicomDataset, frames info: DicomDataset.ImageInfo, sopInstanceUID: String,
                       path: String) throws -> [SourceSlice] {
        var order: [StackKey] = []
        var members: [StackKey: [Int]] = [:]
        for f in 0..<info.frames {
            let key = StackKey(stackID: ds.frameText(f, .frameContentSequence, .stackID),
                               echoTime: ds.frameDoubles(f, .mrEchoSequence, .effectiveEchoTime)?.first)
            if members[key] == nil { order.append(key) }
            members[key, default: []].append(f)
        }
        var frames: [Int] = []
        for key in order where members[key]!.count > frames.count { frames = members[key]! }
        // A top-level rescale (absent in enhanced images) is applied by the decoder already.
        let topLevelRescale = ds.text(.rescaleSlope) != nil || ds.text(.rescaleIntercept) != nil
        return try frames.map { f in
            var pixels: [Float]
            do { pixels = try ds.decodeFrame(f) } catch {
                throw DicomSlices.LoadError(path: path, sopInstanceUID: sopInstanceUID, reason: .unreadable("frame \(f + 1): \(error)"))
            }
            if !topLevelRescale {
                let slope = ds.frameDoubles(f, .pixelValueTransformationSequence, .rescaleSlope)?.first ?? 1
                let intercept = ds.frameDoubles(f, .pixelValueTransformationSequence, .rescaleIntercept)?.first ?? 0
                if slope != 1 || intercept != 0 {
                    pixels = pixels.map { Float(Double($0) * slope + intercept) }
                }
            }
            return SourceSlice(pixels: pixels, rows: info.rows, columns: info.columns,
                               imagePositionPatient: DicomSlices.position(ds.frameDoubles(f, .planePositionSequence, .imagePositionPatient)),
                               imageOrientationPatient: DicomSlices.orientation(ds.frameDoubles(f, .planeOrientationSequence, .imageOrientationPatient)),
                               pixelSpacing: DicomSlices.spacing(ds.frameDoubles(f, .pixelMeasuresSequence, .pixelSpacing)),
                               instanceNumber: ds.frameDoubles(f, .frameContentSequence, .inStackPositionNumber)?.first.map { Int($0) },
                               sopInstanceUID: sopInstanceUID, frameNumber: f + 1)
        }
    }
}
