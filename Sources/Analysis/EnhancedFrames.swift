import DICOM
import Foundation
import Records

// An enhanced multi-frame image (Enhanced MR Image Storage, Legacy Converted Enhanced MR Image
// Storage) holds a whole series in one instance: each frame becomes a slice, its geometry from the
// functional groups (PS3.3 C.7.6.16) — Plane Position (Patient), Plane Orientation (Patient), Pixel
// Measures, Pixel Value Transformation — shared or per frame.

public enum EnhancedFrames {
    /// Whether the image describes its frames with functional groups: frame 1 has a position.
    public static func isEnhanced(_ ds: DicomDataset) -> Bool {
        ds.frameText(0, .planePositionSequence, .imagePositionPatient) != nil
    }

    /// Which stack a frame belongs to. One instance may hold several stacks (Frame Content's StackID)
    /// or echoes (MR Echo's EffectiveEchoTime); they are not one volume.
    struct StackKey: Hashable { let stackID: String?, echoTime: Double? }

    /// The stacks of an instance, in the order of their first frames: each stack's frames (0-based,
    /// in file order) and the routing descriptors of its first frame — the top level's, with the
    /// stack's orientation, TE (MR Echo), TR (MR Timing and Related Parameters) and slice thickness
    /// (Pixel Measures) from the functional groups where they are given.
    public static func stacks(_ ds: DicomDataset, frames: Int) -> [FrameStack] {
        let series = SeriesDescriptors(topLevelOf: ds)
        var order: [StackKey] = []
        var members: [StackKey: [Int]] = [:]
        for f in 0..<frames {
            let key = StackKey(stackID: ds.frameText(f, .frameContentSequence, .stackID),
                               echoTime: ds.frameDoubles(f, .mrEchoSequence, .effectiveEchoTime)?.first)
            if members[key] == nil { order.append(key) }
            members[key, default: []].append(f)
        }
        return order.map { key in
            let f = members[key]![0]
            var d = series
            d.imageOrientationPatient = ds.frameDoubles(f, .planeOrientationSequence, .imageOrientationPatient) ?? d.imageOrientationPatient
            d.echoTime = key.echoTime ?? d.echoTime
            d.repetitionTime = ds.frameDoubles(f, .mrTimingAndRelatedParametersSequence, .repetitionTime)?.first ?? d.repetitionTime
            d.sliceThickness = ds.frameDoubles(f, .pixelMeasuresSequence, .sliceThickness)?.first ?? d.sliceThickness
            return FrameStack(frames: members[key]!, descriptors: d)
        }
    }

    /// The largest stack (ties: the one whose first frame comes first): the choice when no routing
    /// rules are at hand.
    public static let largestStack: StackChoice = { largest(of: $0, among: $0.indices) }

    /// The index of the largest of `stacks[among]` (ties: the first); 0 when `among` is empty.
    public static func largest(of stacks: [FrameStack], among candidates: some Sequence<Int>) -> Int {
        var best: Int?
        for i in candidates where best == nil || stacks[i].frames.count > stacks[best!].frames.count { best = i }
        return best ?? 0
    }

    /// The frames of the stack `choice` picks among the instance's stacks (`stacks`), each a slice
    /// named by the instance's SOP Instance UID and its 1-based frame number. The node routes an
    /// enhanced instance by the same choice (`InstanceHeader`), so the stack analysed is the stack
    /// the routing rules judged.
    static func slices(_ ds: DicomDataset, frames info: DicomDataset.ImageInfo, sopInstanceUID: String,
                       path: String, choice: StackChoice) throws -> [SourceSlice] {
        let all = stacks(ds, frames: info.frames)
        let frames = all.isEmpty ? [] : all[choice(all)].frames
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

/// One stack of an enhanced multi-frame instance: its frames (0-based, in file order) and the
/// routing descriptors of its first frame.
public struct FrameStack: Sendable, Equatable {
    public let frames: [Int]
    public let descriptors: SeriesDescriptors

    public init(frames: [Int], descriptors: SeriesDescriptors) {
        self.frames = frames
        self.descriptors = descriptors
    }
}

/// Picks the stack of an enhanced instance to route and analyse: an index into the stacks given
/// (never empty).
public typealias StackChoice = @Sendable ([FrameStack]) -> Int
