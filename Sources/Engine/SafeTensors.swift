// safetensors container: 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {..}},
// then the raw tensor bytes (offsets are relative to the end of the header).
//
// The file is not mapped: each tensor is pread() straight into its destination (or a small
// staging buffer for F16), so loading a model never holds the whole file in memory next to the
// folded weights — peak RSS stays near the size of the weights themselves.

import Foundation

public enum DType: String, Sendable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

    public var byteSize: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .i8, .u8, .bool: return 1
        }
    }
}

public struct TensorInfo: Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Byte range in the file (absolute, header included).
    public let begin: Int
    public let end: Int
    public var count: Int { shape.reduce(1, *) }
}

public final class SafeTensorsFile {
    public let path: String
    public let fileSize: Int
    public let metadata: [String: String]
    public let tensors: [String: TensorInfo]
    /// Tensor names in file order (by offset), for deterministic iteration.
    public let names: [String]
    private let fd: Int32

    public convenience init(url: URL) throws { try self.init(path: url.path) }

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY)
        if fd < 0 { throw EngineError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
        var st = stat()
        if fstat(fd, &st) != 0 { close(fd); throw EngineError.io("cannot stat \(path)") }
        fileSize = Int(st.st_size)
        do {
            (metadata, tensors, names) = try SafeTensorsFile.parseHeader(fd: fd, fileSize: fileSize, path: path)
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    private static func preadAll(_ fd: Int32, _ dst: UnsafeMutableRawPointer, _ count: Int, _ offset: Int, _ path: String) throws {
        var done = 0
        while done < count {
            let n = pread(fd, dst + done, count - done, off_t(offset + done))
            if n < 0 { if errno == EINTR { continue }; throw EngineError.io("read \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { throw EngineError.io("\(path): unexpected end of file at byte \(offset + done)") }
            done += n
        }
    }

    private static func parseHeader(fd: Int32, fileSize: Int, path: String) throws
        -> ([String: String], [String: TensorInfo], [String])
    {
        if fileSize < 8 { throw EngineError.badFile("\(path): \(fileSize) bytes, too short for a header") }
        var len: UInt64 = 0
        try withUnsafeMutableBytes(of: &len) { try preadAll(fd, $0.baseAddress!, 8, 0, path) }
        len = UInt64(littleEndian: len)
        // The header is JSON describing at most a few thousand tensors; 100 MB is the spec's own cap.
        guard len > 0, len <= 100_000_000, Int(len) + 8 <= fileSize else {
            throw EngineError.badFile("\(path): header length \(len) does not fit a \(fileSize)-byte file")
        }
        var header = Data(count: Int(len))
        try header.withUnsafeMutableBytes { try preadAll(fd, $0.baseAddress!, Int(len), 8, path) }
        guard let json = try? JSONSerialization.jsonObject(with: header), let dict = json as? [String: Any] else {
            throw EngineError.badFile("\(path): header is not a JSON object")
        }
        let dataStart = 8 + Int(len)
        var meta: [String: String] = [:]
        var tensors: [String: TensorInfo] = [:]
        for (name, value) in dict {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw EngineError.badFile("\(path): __metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw EngineError.badFile("\(path): __metadata__[\(k)] is not a string") }
                    meta[k] = s
                }
                continue
            }
            guard let t = value as? [String: Any], let ds = t["dtype"] as? String,
                  let shapeAny = t["shape"] as? [Any], let offsAny = t["data_offsets"] as? [Any], offsAny.count == 2
            else { throw EngineError.badFile("\(path): tensor \(name): malformed entry") }
            guard let dtype = DType(rawValue: ds) else {
                throw EngineError.wrongDType(tensor: name, expected: "F32 or F16", found: ds)
            }
            let shape = try shapeAny.map { (x: Any) -> Int in
                guard let n = (x as? NSNumber)?.intValue, n >= 0 else { throw EngineError.badFile("\(path): tensor \(name): bad shape") }
                return n
            }
            let offs = try offsAny.map { (x: Any) -> Int in
                guard let n = (x as? NSNumber)?.intValue, n >= 0 else { throw EngineError.badFile("\(path): tensor \(name): bad data_offsets") }
                return n
            }
            let info = TensorInfo(name: name, dtype: dtype, shape: shape, begin: dataStart + offs[0], end: dataStart + offs[1])
            guard offs[0] <= offs[1], info.end <= fileSize else {
                throw EngineError.badFile("\(path): tensor \(name): data_offsets \(offs) outside the file")
            }
            guard info.end - info.begin == info.count * dtype.byteSize else {
                throw EngineError.badFile("\(path): tensor \(name): \(info.end - info.begin) bytes for shape \(shape) \(ds)")
            }
            tensors[name] = info
        }
        let names = tensors.values.sorted { ($0.begin, $0.name) < ($1.begin, $1.name) }.map(\.name)
        return (meta, tensors, names)
    }

    /// Reads a floating tensor into `dst` (capacity `info.count`), converting F16 to F32.
    public func readFloats(_ info: TensorInfo, into dst: UnsafeMutablePointer<Float>) throws {
        switch info.dtype {
        case .f32:
            // Little-endian host assumed (x86-64, arm64): the bytes are the floats.
            try SafeTensorsFile.preadAll(fd, UnsafeMutableRawPointer(dst), info.end - info.begin, info.begin, path)
        case .f16:
            let n = info.count
            let staging = UnsafeMutablePointer<UInt16>.allocate(capacity: max(n, 1))
            defer { staging.deallocate() }
            try SafeTensorsFile.preadAll(fd, UnsafeMutableRawPointer(staging), 2 * n, info.begin, path)
            for i in 0..<n { dst[i] = halfToFloat(UInt16(littleEndian: staging[i])) }
        default:
            throw EngineError.wrongDType(tensor: info.name, expected: "F32 or F16", found: info.dtype.rawValue)
        }
    }

    /// Reads a floating tensor by name into a new array.
    public func floats(_ name: String) throws -> [Float] {
        guard let info = tensors[name] else { throw EngineError.missingTensor(name) }
        var out = [Float](repeating: 0, count: info.count)
        try out.withUnsafeMutableBufferPointer { try readFloats(info, into: $0.baseAddress!) }
        return out
    }
}

/// IEEE 754 binary16 -> binary32, exact for every input (normals, subnormals, inf, NaN).
@inline(__always)
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exp = UInt32(h >> 10) & 0x1f
    var mant = UInt32(h & 0x3ff)
    if exp == 0x1f { return Float(bitPattern: sign | 0x7f80_0000 | (mant << 13)) }
    if exp == 0 {
        if mant == 0 { return Float(bitPattern: sign) }
        // Subnormal half: normalise into a float exponent.
        var e: UInt32 = 127 - 15 + 1
        while mant & 0x400 == 0 { mant <<= 1; e -= 1 }
        mant &= 0x3ff
        return Float(bitPattern: sign | (e << 23) | (mant << 13))
    }
    return Float(bitPattern: sign | ((exp + 127 - 15) << 23) | (mant << 13))
}
