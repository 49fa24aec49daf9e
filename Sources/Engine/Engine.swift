// Module Engine: the vertebral-level localizer network on the CPU (ResNet encoder + U-Net decoder,
// float32, OpenBLAS sgemm). Knows nothing of DICOM. See docs/ENGINE.md and docs/MODEL_FORMAT.md.
//
// Public API
// ----------
//     // First thing in main() of an executable (optional, recommended): picks OpenBLAS's AVX-512
//     // kernels where the CPU has them, which needs a re-exec (see Environment.swift).
//     Engine.prepareEnvironment()
//
//     let model = try LocalizerModel(contentsOf: url)   // checks every tensor, folds BatchNorm
//                                                       // (optional winogradMinPlane: kernel policy, see Winograd.swift)
//     model.metadata          // ModelMetadata: name, version, architecture, classes, input, normalization, source, training
//     model.sha256            // hex sha256 of the model file
//     model.classes           // ["background", "L1/L2", ...], index = output channel
//     model.inputHeight, model.inputWidth, model.normalization
//
//     let session = try model.makeSession(batch: 8, threads: 2)   // plans all memory once; own thread pool
//     // (height:, width: optional, multiples of 32; default the model's input size)
//     // n <= batch images, NCHW float32, already normalised:
//     try session.run(input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>)
//     let probs = try session.run(input: [Float])          // n x classes x H x W softmax probabilities
//     // n <= batch grey slices (H x W each, 0...255 for 8-bit): normalised and repeated to 3 channels here:
//     try session.run(grey: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>)
//     let probs = try session.run(grey: [Float])
//
// Errors are `EngineError` values whose messages name the tensor, key or size at fault.
// A LocalizerModel is immutable and may be shared between threads; a Session may not (one per thread).

import Crypto
import Foundation

public final class LocalizerModel: @unchecked Sendable {
    public let url: URL
    public let metadata: ModelMetadata
    /// Lower-case hex sha256 of the model file.
    public let sha256: String
    let weights: WeightStore

    public var name: String { metadata.name }
    public var version: String { metadata.version }
    public var classes: [String] { metadata.classes }
    public var inputHeight: Int { metadata.input.height }
    public var inputWidth: Int { metadata.input.width }
    public var normalization: Normalization { metadata.normalization }

    /// Loads a model file: parses the header and metadata, builds the graph from the architecture,
    /// checks every tensor (first mismatch throws, naming the tensor), reads and folds the weights.
    /// `winogradMinPlane`: 3x3 stride-1 convs with at least this many output pixels (at the model's
    /// input size) run as Winograd F(2x2,3x3); Int.max turns it off, 1 uses it everywhere.
    public init(contentsOf url: URL, winogradMinPlane: Int = 100) throws {
        self.url = url
        let file = try SafeTensorsFile(url: url)
        metadata = try ModelMetadata(file.metadata)
        let graph = Graph(metadata.architecture, height: metadata.input.height, width: metadata.input.width)
        weights = try WeightStore(file: file, convs: graph.convs, winogradMinPlane: winogradMinPlane)
        sha256 = try Self.sha256(ofFileAt: url)
    }

    /// A session for up to `batch` images of height x width (default: the model's input size;
    /// any multiples of 32 work). `threads` sets OpenBLAS's thread count for its runs.
    public func makeSession(batch: Int, threads: Int = 1, height: Int? = nil, width: Int? = nil) throws -> Session {
        try Session(model: self, batch: batch, threads: threads,
                    height: height ?? inputHeight, width: width ?? inputWidth)
    }

    /// The file's SHA-256 in lower-case hex, read in 1 MiB chunks (models are hundreds of MB).
    public static func sha256(ofFileAt url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        // Closing a file opened only for reading cannot lose data, and the digest is complete by then.
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
