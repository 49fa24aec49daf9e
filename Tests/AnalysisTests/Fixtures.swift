// Loads Tests/AnalysisTests/Fixtures (made by tools/make_analysis_fixtures.py from reference.py).
import Foundation
import XCTest

struct FixtureManifest: Decodable {
    struct ResizeCase: Decodable {
        var seed: UInt64, rows: Int, cols: Int, dst_rows: Int, dst_cols: Int, kind: String, file: String
        var source_checksum: UInt64
    }
    struct MinMax: Decodable {
        var shape: [Int]
        var u16_in: String, u16_out: String, f32_in: String, f32_out_float32: String, f32_out_float64: String
    }
    struct Level: Decodable {
        var peak_confidence: Double, entropy: Double, spatial_entropy: Double, point: [Double]?
    }
    struct Probs: Decodable {
        var file: String, channels: Int, rows: Int, cols: Int, classes: [String]
        var metrics: [String: Level]
        var risk: String
    }
    struct Real: Decodable {
        var slices: Int, middle_index: Int, rows: Int, cols: Int
        var volume_min: Double, volume_max: Double, raw: String, expected_160: String
    }
    var resize: [ResizeCase]
    var minmax: MinMax
    var probs: Probs
    var real: Real?
}

enum Fixtures {
    static var directory: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    }

    static func manifest() throws -> FixtureManifest {
        try JSONDecoder().decode(FixtureManifest.self, from: Data(contentsOf: directory.appendingPathComponent("manifest.json")))
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func uint16LE(_ name: String) throws -> [UInt16] {
        let b = try bytes(name)
        return stride(from: 0, to: b.count, by: 2).map { UInt16(b[$0]) | UInt16(b[$0 + 1]) << 8 }
    }

    static func float32LE(_ name: String) throws -> [Float] {
        let b = try bytes(name)
        return stride(from: 0, to: b.count, by: 4).map {
            Float(bitPattern: UInt32(b[$0]) | UInt32(b[$0 + 1]) << 8 | UInt32(b[$0 + 2]) << 16 | UInt32(b[$0 + 3]) << 24)
        }
    }

    /// IEEE half → Float (done by hand: Float16 is not available on every platform Swift builds on).
    static func float16LE(_ name: String) throws -> [Float] {
        let b = try bytes(name)
        return stride(from: 0, to: b.count, by: 2).map { i in
            let h = UInt16(b[i]) | UInt16(b[i + 1]) << 8
            let sign: Float = (h & 0x8000) != 0 ? -1 : 1
            let e = Int((h >> 10) & 0x1F), m = Float(h & 0x3FF)
            if e == 0 { return sign * m * Float(pow(2.0, -24.0)) }
            if e == 31 { return m == 0 ? sign * .infinity : .nan }
            return sign * (1 + m / 1024) * Float(pow(2.0, Double(e - 15)))
        }
    }

    /// The fixtures' source images: splitmix64(seed + (i+1)*golden) >> 56, "binary" → 0/255.
    static func sourceImage(seed: UInt64, count: Int, kind: String) -> [UInt8] {
        (0..<count).map { i in
            var z = seed &+ UInt64(i + 1) &* 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z = z ^ (z >> 31)
            let b = UInt8(z >> 56)
            return kind == "binary" ? (b >= 128 ? 255 : 0) : b
        }
    }
}
