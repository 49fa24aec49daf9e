// The `__metadata__` of a model file (docs/MODEL_FORMAT.md), decoded into typed values and checked
// for consistency. The graph is built from `architecture` alone; the pixel pipeline from `input`
// and `normalization`.

import Foundation

public struct Architecture: Codable, Equatable, Sendable {
    public enum Block: String, Codable, Sendable { case bottleneck, basic }
    public enum Stem: String, Codable, Sendable { case deep, plain }
    public enum StemPool: String, Codable, Sendable { case avg, max }

    public struct Encoder: Codable, Equatable, Sendable {
        public var type: String
        public var block: Block
        public var layers: [Int]
        public var widths: [Int]
        public var expansion: Int
        public var stem: Stem
        public var stemWidth: Int
        public var stemPool: StemPool
        public var avgDown: Bool

        enum CodingKeys: String, CodingKey {
            case type, block, layers, widths, expansion, stem
            case stemWidth = "stem_width", stemPool = "stem_pool", avgDown = "avg_down"
        }
    }

    public struct Decoder: Codable, Equatable, Sendable {
        public var widths: [Int]
    }

    public var encoder: Encoder
    public var decoder: Decoder
    public var numClasses: Int

    enum CodingKeys: String, CodingKey {
        case encoder, decoder, numClasses = "num_classes"
    }

    /// Channels of the encoder features at strides 2 (stem), 4, 8, 16, 32.
    public var encoderChannels: [Int] {
        [encoder.widths[0]] + encoder.widths.map { $0 * encoder.expansion }
    }

    func validate() throws {
        let e = encoder
        func bad(_ m: String) -> EngineError { .badMetadata("architecture: \(m)") }
        guard e.type == "resnet" else { throw bad("encoder type \(e.type), only resnet is supported") }
        guard e.layers.count == 4, e.widths.count == 4 else { throw bad("layers and widths need 4 stages") }
        guard e.layers.allSatisfy({ $0 >= 1 }), e.widths.allSatisfy({ $0 >= 1 }) else { throw bad("empty stage") }
        guard e.expansion == (e.block == .bottleneck ? 4 : 1) else {
            throw bad("expansion \(e.expansion) for \(e.block.rawValue) blocks")
        }
        guard e.stemWidth >= 1 else { throw bad("stem_width \(e.stemWidth)") }
        guard decoder.widths.count == 5, decoder.widths.allSatisfy({ $0 >= 1 }) else { throw bad("decoder needs 5 widths") }
        guard numClasses >= 1 else { throw bad("num_classes \(numClasses)") }
    }
}

public struct InputSpec: Codable, Equatable, Sendable {
    public var height: Int
    public var width: Int
    public var channels: Int
}

/// x = (pixel / scale - mean[c]) / std[c]
public struct Normalization: Codable, Equatable, Sendable {
    public var scale: Float
    public var mean: [Float]
    public var std: [Float]
}

public struct ModelMetadata: Equatable, Sendable {
    public static let format = "lstv-localizer/1"

    public var name: String
    public var version: String
    public var architecture: Architecture
    public var classes: [String]
    public var input: InputSpec
    public var normalization: Normalization
    public var source: String
    /// The optional `training` JSON, verbatim.
    public var training: String?
    /// Every key of `__metadata__`, verbatim.
    public var raw: [String: String]

    public init(_ raw: [String: String]) throws {
        func key(_ k: String) throws -> String {
            guard let v = raw[k] else { throw EngineError.badMetadata("missing key \(k)") }
            return v
        }
        func decode<T: Decodable>(_ t: T.Type, _ k: String) throws -> T {
            let s = try key(k)
            do { return try JSONDecoder().decode(T.self, from: Data(s.utf8)) } catch {
                throw EngineError.badMetadata("\(k) is not valid: \(error)")
            }
        }
        let format = try key("format")
        guard format == ModelMetadata.format else {
            throw EngineError.badMetadata("format \(format), expected \(ModelMetadata.format)")
        }
        self.raw = raw
        name = try key("name")
        version = try key("version")
        architecture = try decode(Architecture.self, "architecture")
        classes = try decode([String].self, "classes")
        input = try decode(InputSpec.self, "input")
        normalization = try decode(Normalization.self, "normalization")
        source = try key("source")
        training = raw["training"]
        if let t = training, (try? JSONSerialization.jsonObject(with: Data(t.utf8))) == nil {
            throw EngineError.badMetadata("training is not valid JSON")
        }

        try architecture.validate()
        guard classes.count == architecture.numClasses else {
            throw EngineError.badMetadata("\(classes.count) classes for num_classes \(architecture.numClasses)")
        }
        guard input.channels == 3 else {
            throw EngineError.badMetadata("input channels \(input.channels): the encoder stem takes 3")
        }
        guard input.height > 0, input.width > 0, input.height % 32 == 0, input.width % 32 == 0 else {
            throw EngineError.badMetadata("input \(input.height)x\(input.width): both must be positive multiples of 32")
        }
        let n = normalization
        guard n.mean.count == input.channels, n.std.count == input.channels else {
            throw EngineError.badMetadata("normalization needs \(input.channels) mean and std values")
        }
        guard n.scale > 0, n.std.allSatisfy({ $0 != 0 && $0.isFinite }), n.mean.allSatisfy(\.isFinite) else {
            throw EngineError.badMetadata("normalization scale/std must be non-zero and finite")
        }
    }
}
