import Analysis
import ArgumentParser
import Engine
import Foundation
import Node

/// Runs a model through the node's own engine on prepared 8-bit slices (a NumPy .npy uint8 array
/// N×H×W at the model's input size) and prints, per slice and per class, the reference metrics
/// and point (and the point's separate sites) on the grid, and the node's ladder check on the grid points. The model card's validation numbers come from this, not from PyTorch
/// (tools/evaluate_model.py prepares the slices and scores the output).
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per-class metrics of a model on prepared 8-bit slices (.npy uint8 N×H×W), as JSON.")

    @OptionGroup var options: ConfigOptions
    @Option(help: "Model file (default: the configured or bundled model).") var model: String?
    @Option(help: "NumPy .npy file, uint8, shape N×H×W (the model's input size).") var images: String
    @Option(help: "Write the JSON here instead of stdout.") var output: String?
    @Option(help: "Thoracolumbar locator: bundled, off, or a model file (default: thoracolumbar_locator).") var locator: String?

    func run() throws {
        let config = try options.load()
        let localizer = try LocalizerModel(contentsOf: try ModelLocator.resolve(explicit: model, configuration: config))
        let (shape, bytes) = try NumPyArray.readUInt8(path: images)
        guard shape.count == 3, shape[1] == localizer.inputHeight, shape[2] == localizer.inputWidth else {
            throw ValidationError("images must be uint8 N×\(localizer.inputHeight)×\(localizer.inputWidth); got \(shape)")
        }
        let n = shape[0], plane = shape[1] * shape[2]
        // The node's own analyzer: the same input preparation, passes and ladder flag as a series.
        let analyzer = try Analyzer(model: localizer, threads: config.analysisThreads.resolved(concurrent: 1), perturbations: config.ladderPerturbations,
                                    riskThresholds: config.riskThresholds,
                                    locator: try ModelLocator.makeLocator(word: locator, configuration: config))
        var out: [[String: Any]] = []
        for i in 0..<n {
            let g = try analyzer.run(grid: Array(bytes[(i * plane)..<((i + 1) * plane)]))
            var classes: [String: Any] = [:]
            for (c, name) in localizer.classes.enumerated() where c > 0 {
                let start = g.probabilities.startIndex + c * plane
                let channel = g.probabilities[start..<(start + plane)]
                let m = try Metrics.level(channel, rows: shape[1], columns: shape[2], name: name)
                classes[name] = ["peak_confidence": m.peakConfidence, "entropy": m.entropy, "spatial_entropy": m.spatialEntropy,
                                 "point": m.point.map { [$0.row, $0.column] } as Any? ?? NSNull(),
                                 "sites": Metrics.sites(channel, rows: shape[1], columns: shape[2]).map { [$0.row, $0.column] }]
            }
            let suspicion = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(g.suspicion))
            out.append(["index": i, "classes": classes,
                        "ladder": ["status": g.ladder.status.rawValue, "reasons": g.ladder.reasons],
                        "suspicion": suspicion, "risk": g.risk.rawValue])
        }
        let json = try JSONSerialization.data(withJSONObject: ["model": ["name": localizer.name, "version": localizer.version,
                                                                           "sha256": localizer.sha256],
                                                                "blas_core": Engine.blasCoreName, "results": out],
                                              options: [.sortedKeys])
        if let output { try json.write(to: URL(fileURLWithPath: output)) } else { print(String(decoding: json, as: UTF8.self)) }
    }
}

/// The subset of the .npy format we need: version 1/2 header, little-endian uint8, C order.
enum NumPyArray {
    static func readUInt8(path: String) throws -> (shape: [Int], bytes: [UInt8]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard data.count > 10, data.prefix(6) == Data([0x93]) + Data("NUMPY".utf8) else { throw ValidationError("\(path): not a .npy file") }
        let major = data[6]
        let headerLength = major == 1 ? Int(data[8]) | Int(data[9]) << 8
                                      : Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24
        let start = major == 1 ? 10 : 12
        let header = String(decoding: data[start..<(start + headerLength)], as: UTF8.self)
        guard header.contains("'descr': '|u1'") || header.contains("'descr': '<u1'") else {
            throw ValidationError("\(path): dtype must be uint8 (header: \(header))")
        }
        guard header.contains("'fortran_order': False") else { throw ValidationError("\(path): must be C order") }
        guard let open = header.firstIndex(of: "("), let close = header.firstIndex(of: ")") else { throw ValidationError("\(path): no shape") }
        let shape = header[header.index(after: open)..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let body = Array(data[(start + headerLength)...])
        guard body.count == shape.reduce(1, *) else { throw ValidationError("\(path): \(body.count) bytes for shape \(shape)") }
        return (shape, body)
    }
}
