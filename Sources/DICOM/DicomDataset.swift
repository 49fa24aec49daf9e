import CDICOM
import Foundation

public struct DICOMError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A DICOM file opened through DCMTK. Not thread-safe: use one instance per thread.
public final class DicomDataset {
    private let handle: OpaquePointer
    public let path: String

    /// Opens a Part 10 file. `headerOnly` leaves large values (pixel data) on disk; the whole file is
    /// still parsed, so a truncated or garbage file throws here.
    public init(path: String, headerOnly: Bool = true) throws {
        DICOMLibrary.initialize()
        var err = [CChar](repeating: 0, count: 512)
        guard let h = cdicom_dataset_open(path, headerOnly ? 1 : 0, &err, err.count) else {
            throw DICOMError("cannot read DICOM file: " + String(cString: err))
        }
        handle = h
        self.path = path
    }

    deinit { cdicom_dataset_close(handle) }

    /// The value as stored (multiple values separated by backslashes), or nil when absent.
    public func string(_ tag: Tag) -> String? {
        var buffer = [CChar](repeating: 0, count: 1024)
        var rc = cdicom_dataset_get_string(handle, tag.group, tag.element, &buffer, buffer.count)
        if rc == -1 {
            buffer = [CChar](repeating: 0, count: 1 << 20)
            rc = cdicom_dataset_get_string(handle, tag.group, tag.element, &buffer, buffer.count)
        }
        guard rc == 1 else { return nil }
        return String(cString: buffer)
    }

    /// Trimmed string, nil when absent or empty.
    public func text(_ tag: Tag) -> String? {
        guard let s = string(tag)?.trimmingCharacters(in: .whitespaces), !s.isEmpty else { return nil }
        return s
    }

    /// Multi-valued decimal strings (DS, IS) as doubles; nil when absent or unparsable.
    public func doubles(_ tag: Tag) -> [Double]? { Self.decimals(text(tag)) }

    /// Backslash-separated decimals; nil when absent, empty or any value unparsable.
    static func decimals(_ text: String?) -> [Double]? {
        guard let s = text else { return nil }
        let values = s.split(separator: "\\", omittingEmptySubsequences: false)
            .map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else { return nil }
        return values.map { $0! }
    }

    public func double(_ tag: Tag) -> Double? { doubles(tag)?.first }

    public func int(_ tag: Tag) -> Int? {
        guard let s = text(tag) else { return nil }
        if let i = Int(s) { return i }
        return double(tag).map { Int($0) }
    }

    public func strings(_ tag: Tag) -> [String] {
        guard let s = string(tag) else { return [] }
        return s.split(separator: "\\", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// An attribute of frame `frame` (0-based) of an enhanced multi-frame image, from the functional
    /// group macro `macro` (e.g. `.planePositionSequence`): the frame's own item of the Per-Frame
    /// Functional Groups Sequence, else the Shared Functional Groups Sequence. Trimmed; nil when absent
    /// or empty.
    public func frameText(_ frame: Int, _ macro: Tag, _ tag: Tag) -> String? {
        var buffer = [CChar](repeating: 0, count: 1024)
        let rc = cdicom_dataset_frame_string(handle, UInt32(frame), macro.group, macro.element, tag.group, tag.element,
                                             &buffer, buffer.count)
        guard rc == 1 else { return nil }
        let s = String(cString: buffer).trimmingCharacters(in: .whitespaces)
        return s.isEmpty ? nil : s
    }

    /// `frameText` as decimal values (DS, IS, FD as text); nil when absent or unparsable.
    public func frameDoubles(_ frame: Int, _ macro: Tag, _ tag: Tag) -> [Double]? {
        Self.decimals(frameText(frame, macro, tag))
    }

    public struct ImageInfo: Sendable { public let frames: Int, rows: Int, columns: Int, samplesPerPixel: Int }

    public var imageInfo: ImageInfo {
        var f: UInt32 = 0, r: UInt32 = 0, c: UInt32 = 0, s: UInt32 = 0
        cdicom_dataset_image_info(handle, &f, &r, &c, &s)
        return ImageInfo(frames: Int(f), rows: Int(r), columns: Int(c), samplesPerPixel: Int(s))
    }

    /// One monochrome frame as floats (stored values, BitsStored masking, rescale applied),
    /// decoded through DCMTK whatever the transfer syntax.
    public func decodeFrame(_ index: Int = 0) throws -> [Float] {
        try decode(index, samples: 1, zero: Float(0)) { cdicom_dataset_decode_frame(handle, UInt32(index), $0, $1, $2, $3) }
    }

    /// One 8-bit RGB frame (a key image) as interleaved R, G, B bytes, row by row.
    public func decodeRGBFrame(_ index: Int = 0) throws -> [UInt8] {
        try decode(index, samples: 3, zero: UInt8(0)) { cdicom_dataset_decode_rgb8(handle, UInt32(index), $0, $1, $2, $3) }
    }

    /// Runs a CDICOM decoder into a buffer of rows × columns × `samples` values.
    private func decode<T>(_ index: Int, samples: Int, zero: T,
                           _ decoder: (UnsafeMutablePointer<T>?, Int, UnsafeMutablePointer<CChar>, Int) -> Int32) throws -> [T] {
        let info = imageInfo
        guard info.rows > 0, info.columns > 0 else { throw DICOMError("no pixel data") }
        var out = [T](repeating: zero, count: info.rows * info.columns * samples)
        var err = [CChar](repeating: 0, count: 512)
        let rc = out.withUnsafeMutableBufferPointer { o in
            err.withUnsafeMutableBufferPointer { decoder(o.baseAddress, o.count, $0.baseAddress!, $0.count) }
        }
        guard rc == 0 else { throw DICOMError("cannot decode pixel data: " + String(cString: err)) }
        return out
    }
}

/// Process-wide DCMTK initialisation (codecs, TCP_NODELAY, log level), done once.
public enum DICOMLibrary {
    private static let once: Void = { cdicom_initialize(4) }()
    public static func initialize() { _ = once }
}
