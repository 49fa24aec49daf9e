// The network's input, made exactly as in training: whole-volume min-max to 8 bits (numpy), cv2
// bilinear resize of the middle slice, then (x/scale - mean)/std repeated to the input channels.

/// Minimum and maximum over every pixel of the whole volume (not of one slice): the 8-bit scaling
/// is a property of the series.
public struct IntensityRange: Equatable, Codable, Sendable {
    public var min: Float
    public var max: Float
    public init(min: Float, max: Float) {
        self.min = min
        self.max = max
    }

    public init(of stack: SliceStack) {
        self.init(of: stack.slices.map(\.pixels))
    }

    /// NaN pixels are skipped (numpy's min/max would return NaN and make the whole volume 0).
    public init<C: Collection>(of slices: C) where C.Element == [Float] {
        var lo = Float.infinity, hi = -Float.infinity
        for s in slices {
            for v in s where !v.isNaN {
                if v < lo { lo = v }
                if v > hi { hi = v }
            }
        }
        self.init(min: lo, max: hi)
    }
}

/// The arithmetic numpy used for `((v - min) / (max - min) * 255).astype(np.uint8)`: that depends on
/// the volume's dtype. Integer volumes (uint16/int16: what pydicom gives without a rescale) are
/// promoted to float64 by the true division; a float32 volume stays float32 (numpy 2 keeps `255`
/// weak). Float64 is the default because the reference volume is the stacked uint16 pixel data.
/// Limits of "exactly": pixels arrive as Float, so a non-integer rescale (float64 in pydicom) is
/// rounded to float32 first; and numpy's int16 `v - min` wraps when the range exceeds 32767, which
/// this exact arithmetic does not copy (MR data never comes near it).
public enum MinMaxArithmetic: String, Codable, Sendable {
    case float64
    case float32
}

public enum Preprocess {
    /// `((v - min) / (max - min) * 255).astype(np.uint8)` for one slice, with the volume's range.
    /// Truncation toward zero; results outside 0...255 (pixels outside `range`) are clamped.
    /// `max == min` (a constant volume) gives all zeros, where numpy would compute 0/0 = NaN.
    public static func scaleTo8Bit(_ pixels: [Float], range: IntensityRange,
                                   arithmetic: MinMaxArithmetic = .float64) -> [UInt8] {
        guard range.max > range.min else { return [UInt8](repeating: 0, count: pixels.count) }
        switch arithmetic {
        case .float64:
            let lo = Double(range.min), span = Double(range.max) - Double(range.min)
            return pixels.map { truncateToUInt8((Double($0) - lo) / span * 255) }
        case .float32:
            let lo = range.min, span = range.max - range.min
            return pixels.map { truncateToUInt8(Double(($0 - lo) / span * 255)) }
        }
    }

    /// The reference's 160x160 (or the model's size) middle slice: min-max over the whole stack,
    /// then cv2 resize of `volume[len // 2]` (resizing is per slice, so only that one is resized).
    public static func middleSlice(of stack: SliceStack, rows: Int = 160, columns: Int = 160,
                                   arithmetic: MinMaxArithmetic = .float64) -> [UInt8] {
        let range = IntensityRange(of: stack)
        let mid = stack.middle
        let u8 = scaleTo8Bit(mid.pixels, range: range, arithmetic: arithmetic)
        return resizeBilinearLikeOpenCV(u8, srcRows: mid.rows, srcCols: mid.columns, dstRows: rows, dstCols: columns)
    }

    /// Network input, channel-major [channels][rows*columns]: x = (pixel / scale - mean[c]) / std[c]
    /// in Float, as the network's forward computes it in float32.
    public static func networkInput(_ slice: [UInt8], normalization: InputNormalization,
                                    channels: Int) throws -> [Float] {
        guard normalization.mean.count >= channels, normalization.std.count >= channels else {
            throw PreprocessError.normalization("mean/std have \(normalization.mean.count)/\(normalization.std.count) values for \(channels) channels")
        }
        guard normalization.scale > 0, normalization.std.prefix(channels).allSatisfy({ $0 > 0 }) else {
            throw PreprocessError.normalization("scale and std must be positive")
        }
        var out = [Float]()
        out.reserveCapacity(channels * slice.count)
        for c in 0..<channels {
            let m = normalization.mean[c], s = normalization.std[c], k = normalization.scale
            out.append(contentsOf: slice.map { (Float($0) / k - m) / s })
        }
        return out
    }

    /// numpy's float → uint8 cast on values in range: truncation toward zero. NaN (0/0) → 0.
    @inline(__always)
    static func truncateToUInt8(_ v: Double) -> UInt8 {
        guard v.isFinite else { return 0 }
        return UInt8(min(max(v, 0), 255).rounded(.towardZero))
    }
}

/// The model metadata's `normalization`: `{"scale":255.0,"mean":[…],"std":[…]}`.
public struct InputNormalization: Codable, Equatable, Sendable {
    public var scale: Float
    public var mean: [Float]
    public var std: [Float]
    public init(scale: Float = 255, mean: [Float], std: [Float]) {
        self.scale = scale
        self.mean = mean
        self.std = std
    }
}

public enum PreprocessError: Error, Equatable, CustomStringConvertible {
    case normalization(String)
    public var description: String {
        switch self {
        case let .normalization(m): return "input normalization: \(m)"
        }
    }
}
