// Engine tests. The golden figures come from PyTorch (tools/make_golden.py writes the fixtures);
// nothing here is a hard-coded number of our own.

import Foundation
import MallocCounter
import XCTest
@testable import Engine

func fixture(_ name: String) -> URL {
    Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")!
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "sizes \(a.count) vs \(b.count)")
    var m: Float = 0
    for i in 0..<a.count { m = max(m, abs(a[i] - b[i])) }
    if a.contains(where: { $0.isNaN }) { return .infinity }
    return m
}

final class GoldenTests: XCTestCase {
    let tolerance: Float = 5e-5
    /// Kernel policies: the default (Winograd for large planes), Winograd for every 3x3 stride-1 conv
    /// (odd 3x3 and 5x5 planes exercise the tile clipping), and im2col everywhere.
    let policies = [100, 1, Int.max]

    func testBottleneckGreyBatchOfTwo() throws {
        let cases = try SafeTensorsFile(url: fixture("golden_bottleneck_cases.safetensors"))
        let grey = try cases.floats("grey"), want = try cases.floats("probs_grey")
        XCTAssertEqual(cases.tensors["grey"]!.shape, [2, 160, 160])
        for policy in policies {
            let model = try LocalizerModel(contentsOf: fixture("golden_bottleneck.safetensors"), winogradMinPlane: policy)
            let session = try model.makeSession(batch: 2, threads: 2)
            let got = try session.run(grey: grey)
            let d = maxAbsDiff(got, want)
            XCTAssertLessThan(d, tolerance, "bottleneck grey, winograd >= \(policy): max |engine - PyTorch| = \(d)")
        }
    }

    func testBottleneckFloatNonSquare() throws {
        let cases = try SafeTensorsFile(url: fixture("golden_bottleneck_cases.safetensors"))
        let x = try cases.floats("input_float"), want = try cases.floats("probs_float")
        let shape = cases.tensors["input_float"]!.shape
        XCTAssertNotEqual(shape[2], shape[3])
        for policy in policies {
            let model = try LocalizerModel(contentsOf: fixture("golden_bottleneck.safetensors"), winogradMinPlane: policy)
            let session = try model.makeSession(batch: 1, threads: 1, height: shape[2], width: shape[3])
            let d = maxAbsDiff(try session.run(input: x), want)
            XCTAssertLessThan(d, tolerance, "bottleneck float \(shape), winograd >= \(policy): max diff \(d)")
        }
    }

    func testBasicPlainStemMaxPool() throws {
        let cases = try SafeTensorsFile(url: fixture("golden_basic_cases.safetensors"))
        let x = try cases.floats("input_float"), want = try cases.floats("probs_float")
        for policy in policies {
            let model = try LocalizerModel(contentsOf: fixture("golden_basic.safetensors"), winogradMinPlane: policy)
            XCTAssertEqual(model.metadata.architecture.encoder.block, .basic)
            XCTAssertEqual(model.metadata.architecture.encoder.stemPool, .max)
            let wino = model.weights.layers.filter(\.winograd).count
            if policy == 1 { XCTAssertEqual(wino, model.weights.layers.filter { $0.spec.k == 3 && $0.spec.stride == 1 }.count) }
            if policy == Int.max { XCTAssertEqual(wino, 0) }
            let session = try model.makeSession(batch: 2, threads: 2)
            let d = maxAbsDiff(try session.run(input: x), want)
            XCTAssertLessThan(d, tolerance, "basic, winograd >= \(policy): max diff \(d)")
        }
    }

    func testPortableKernels() throws {
        // The C kernels' portable code (CPUs without AVX-512) on the golden cases, with Winograd on
        // every 3x3 stride-1 conv so its transforms run on every plane size, 1 and 2 threads.
        let before = Engine.kernelSet
        Engine.kernelSet = .portable
        defer { Engine.kernelSet = before }
        XCTAssertEqual(Engine.kernelSet, .portable)
        let cases = try SafeTensorsFile(url: fixture("golden_bottleneck_cases.safetensors"))
        let grey = try cases.floats("grey"), want = try cases.floats("probs_grey")
        let model = try LocalizerModel(contentsOf: fixture("golden_bottleneck.safetensors"), winogradMinPlane: 1)
        XCTAssertFalse(model.weights.layers.contains(where: \.packed), "portable kernels: row-major weights for OpenBLAS")
        for threads in [1, 2] {
            let d = maxAbsDiff(try model.makeSession(batch: 2, threads: threads).run(grey: grey), want)
            XCTAssertLessThan(d, tolerance, "portable kernels, \(threads) threads: max diff \(d)")
        }
        let basic = try SafeTensorsFile(url: fixture("golden_basic_cases.safetensors"))
        let basicModel = try LocalizerModel(contentsOf: fixture("golden_basic.safetensors"), winogradMinPlane: 1)
        let d = maxAbsDiff(try basicModel.makeSession(batch: 2, threads: 2).run(input: try basic.floats("input_float")),
                           try basic.floats("probs_float"))
        XCTAssertLessThan(d, tolerance, "portable kernels, basic: max diff \(d)")
    }

    func testWeightLayoutFollowsTheKernelSet() throws {
        // With AVX-512 the golden cases above ran on packed weights (CKernels' GEMM); without it on
        // row-major ones (OpenBLAS), as in testPortableKernels.
        let model = try LocalizerModel(contentsOf: fixture("golden_bottleneck.safetensors"))
        if Engine.kernelSet == .avx512 {
            XCTAssertTrue(model.weights.layers.allSatisfy(\.packed))
            // Channel panels (gemm_wide.c) exactly where the output plane is small and Cout a
            // multiple of 64; the fixture has both kinds.
            for l in model.weights.layers {
                let wide = !l.winograd && l.spec.cout % 64 == 0 && l.spec.plane <= WeightLayout.channelPanelsMaxPlane
                XCTAssertEqual(l.layout, wide ? .channelPanels : .columnPanels, l.spec.weight)
            }
            XCTAssertEqual(Set(model.weights.layers.map(\.layout)), [.channelPanels, .columnPanels])
        } else {
            XCTAssertFalse(model.weights.layers.contains(where: \.packed))
        }
    }

    func testTinyScratchChunking() throws {
        // A scratch of a few thousand floats forces every chunking path: many row chunks, K cut into
        // channel blocks (accumulating in C), Winograd tile chunks, pointwise column chunks.
        setenv("LSTV_ENGINE_CHUNKS", "3000,2048,4000", 1)
        defer { unsetenv("LSTV_ENGINE_CHUNKS") }
        let cases = try SafeTensorsFile(url: fixture("golden_bottleneck_cases.safetensors"))
        let grey = try cases.floats("grey"), want = try cases.floats("probs_grey")
        let model = try LocalizerModel(contentsOf: fixture("golden_bottleneck.safetensors"), winogradMinPlane: 1)
        for threads in [1, 2] {
            let session = try model.makeSession(batch: 2, threads: threads)
            let d = maxAbsDiff(try session.run(grey: grey), want)
            XCTAssertLessThan(d, tolerance, "tiny scratch, \(threads) threads: max diff \(d)")
        }
    }

    func testF16WeightsLoad() throws {
        // The bottleneck fixture is stored as float16; its golden results (above) were computed by
        // PyTorch from the same rounded values, so passing them proves the F16 path. Check the file
        // really is F16 so that stays true.
        let file = try SafeTensorsFile(url: fixture("golden_bottleneck.safetensors"))
        XCTAssertEqual(file.tensors["encoder.conv1.0.weight"]?.dtype, .f16)
        XCTAssertEqual(file.tensors["logit.bias"]?.dtype, .f16)
        XCTAssertEqual(file.tensors["encoder.bn1.num_batches_tracked"]?.dtype, .i64)
        // Conversion: exact on normals, subnormals, signed zero and infinities.
        XCTAssertEqual(halfToFloat(0x3C00), 1)
        XCTAssertEqual(halfToFloat(0xC000), -2)
        XCTAssertEqual(halfToFloat(0x0001), Float(5.960464477539063e-08))
        XCTAssertEqual(halfToFloat(0x7BFF), 65504)
        XCTAssertEqual(halfToFloat(0x7C00), .infinity)
        XCTAssertEqual(halfToFloat(0x8000).sign, .minus)
    }

    func testBatchOfNEqualsSingleRuns() throws {
        let model = try LocalizerModel(contentsOf: fixture("golden_bottleneck.safetensors"))
        let grey = try SafeTensorsFile(url: fixture("golden_bottleneck_cases.safetensors")).floats("grey")
        let plane = 160 * 160
        let batched = try model.makeSession(batch: 3, threads: 2)
        let both = try batched.run(grey: grey)                 // 2 images in a batch-3 session
        let single = try model.makeSession(batch: 1, threads: 1)
        for i in 0..<2 {
            let one = try single.run(grey: Array(grey[i * plane..<(i + 1) * plane]))
            let part = Array(both[i * one.count..<(i + 1) * one.count])
            XCTAssertLessThan(maxAbsDiff(one, part), 1e-5, "image \(i): batch vs single")
        }
    }

    func testMoreImagesThanTheBatchRunInPasses() throws {
        let model = try LocalizerModel(contentsOf: fixture("golden_bottleneck.safetensors"))
        let grey = try SafeTensorsFile(url: fixture("golden_bottleneck_cases.safetensors")).floats("grey")
        let single = try model.makeSession(batch: 1, threads: 1)
        let plane = 160 * 160
        // Three normalised images (the two cases and the first again) through a batch-2 session.
        let images = (0..<2).map { Array(grey[$0 * plane..<($0 + 1) * plane]) } + [Array(grey[0..<plane])]
        let inputs = images.map { normalised(model, grey: $0) }
        let passes = try model.makeSession(batch: 2, threads: 1).run(passes: inputs.flatMap { $0 })
        XCTAssertEqual(passes.count, 3 * single.outputCountPerImage)
        for (i, input) in inputs.enumerated() {
            let one = try single.run(input: input)
            let part = Array(passes[i * one.count..<(i + 1) * one.count])
            XCTAssertLessThan(maxAbsDiff(one, part), 1e-5, "image \(i): in passes vs single")
        }
        XCTAssertThrowsError(try single.run(passes: [1, 2, 3]))
    }

    /// The grey path's normalisation (`run(grey:)`), done here: 3 x H x W floats for `run(input:)`.
    private func normalised(_ model: LocalizerModel, grey: [Float]) -> [Float] {
        let n = model.metadata.normalization
        var out = [Float]()
        for c in 0..<3 { out += grey.map { ($0 / n.scale - n.mean[c]) / n.std[c] } }
        return out
    }

    func testSteadyStateRunDoesNotAllocate() throws {
        let model = try LocalizerModel(contentsOf: fixture("golden_basic.safetensors"))
        let x = try SafeTensorsFile(url: fixture("golden_basic_cases.safetensors")).floats("input_float")
        var out = [Float](repeating: 0, count: 2 * (try model.makeSession(batch: 1)).outputCountPerImage)
        for threads in [1, 3] {
            let session = try model.makeSession(batch: 2, threads: threads)
            try x.withUnsafeBufferPointer { i in
                try out.withUnsafeMutableBufferPointer { o in
                    try session.run(input: i, output: o)
                    // Steady state: three more runs, every allocation of every thread counted.
                    malloc_counter_start()
                    for _ in 0..<3 { try session.run(input: i, output: o) }
                    XCTAssertEqual(malloc_counter_stop(), 0, "a run allocated (threads: \(threads))")
                }
            }
        }
        // The counter counts: the convenience entry point allocates its result.
        let session = try model.makeSession(batch: 2, threads: 1)
        malloc_counter_start()
        let allocated = try session.run(input: x)
        XCTAssertGreaterThan(malloc_counter_stop(), 0)
        // (`out` is from the 3-thread session: the GEMMs are split differently, so not bit-equal.)
        XCTAssertLessThan(maxAbsDiff(allocated, out), 1e-5)
    }

    func testBadInputSizes() throws {
        let model = try LocalizerModel(contentsOf: fixture("golden_basic.safetensors"))
        XCTAssertThrowsError(try model.makeSession(batch: 1, threads: 1, height: 100, width: 64))
        let s = try model.makeSession(batch: 1, threads: 1)
        XCTAssertThrowsError(try s.run(input: [Float](repeating: 0, count: 10)))
        XCTAssertThrowsError(try s.run(input: [Float](repeating: 0, count: 2 * s.inputCountPerImage)))
    }
}

final class LoaderTests: XCTestCase {
    /// Rewrites the fixture's JSON header with `edit` and writes the result to a temp file.
    func mutated(_ name: String, _ edit: (inout [String: Any]) -> Void) throws -> URL {
        let data = try Data(contentsOf: fixture(name))
        let len = data.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        var header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + len))) as! [String: Any]
        edit(&header)
        let json = try JSONSerialization.data(withJSONObject: header)
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(data.subdata(in: (8 + len)..<data.count))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("engine-\(UUID().uuidString).safetensors")
        try out.write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func expectError(_ url: URL, naming tensor: String, _ check: (EngineError) -> Bool,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try LocalizerModel(contentsOf: url), file: file, line: line) { error in
            guard let e = error as? EngineError else { return XCTFail("not an EngineError: \(error)", file: file, line: line) }
            XCTAssertTrue(check(e), "wrong error: \(e)", file: file, line: line)
            XCTAssertTrue(e.description.contains(tensor), "message does not name \(tensor): \(e)", file: file, line: line)
        }
    }

    let tensorName = "decoder.block.2.conv1.0.weight"

    func testFixtureLoadsUnchanged() throws {
        // The rewrite itself must not break anything, or the tests below prove nothing.
        let url = try mutated("golden_basic.safetensors") { _ in }
        XCTAssertNoThrow(try LocalizerModel(contentsOf: url))
    }

    func testWrongShape() throws {
        let url = try mutated("golden_basic.safetensors") { h in
            var t = h[self.tensorName] as! [String: Any]
            let s = t["shape"] as! [Int]
            t["shape"] = [s[1], s[0], s[2], s[3]]  // same size, transposed
            h[self.tensorName] = t
        }
        expectError(url, naming: tensorName) { if case .wrongShape(let n, _, _) = $0 { return n == self.tensorName }; return false }
    }

    func testMissingTensor() throws {
        let url = try mutated("golden_basic.safetensors") { h in h.removeValue(forKey: "encoder.layer3.0.bn2.running_var") }
        expectError(url, naming: "encoder.layer3.0.bn2.running_var") {
            if case .missingTensor(let n) = $0 { return n == "encoder.layer3.0.bn2.running_var" }; return false
        }
    }

    func testWrongDType() throws {
        let url = try mutated("golden_basic.safetensors") { h in
            var t = h["logit.weight"] as! [String: Any]
            t["dtype"] = "I32"  // same byte size as F32
            h["logit.weight"] = t
        }
        expectError(url, naming: "logit.weight") { if case .wrongDType(let n, _, _) = $0 { return n == "logit.weight" }; return false }
    }

    func testUnexpectedTensor() throws {
        let url = try mutated("golden_basic.safetensors") { h in h["encoder.fc.weight"] = h["logit.bias"] }
        expectError(url, naming: "encoder.fc.weight") {
            if case .unexpectedTensor(let n) = $0 { return n == "encoder.fc.weight" }; return false
        }
    }

    func testBadMetadata() throws {
        let noArch = try mutated("golden_basic.safetensors") { h in
            var m = h["__metadata__"] as! [String: Any]
            m.removeValue(forKey: "architecture")
            h["__metadata__"] = m
        }
        expectError(noArch, naming: "architecture") { if case .badMetadata = $0 { return true }; return false }
        let wrongFormat = try mutated("golden_basic.safetensors") { h in
            var m = h["__metadata__"] as! [String: Any]
            m["format"] = "something/2"
            h["__metadata__"] = m
        }
        expectError(wrongFormat, naming: "something/2") { if case .badMetadata = $0 { return true }; return false }
    }

    func testMetadataDecoded() throws {
        let model = try LocalizerModel(contentsOf: fixture("golden_bottleneck.safetensors"))
        let m = model.metadata
        XCTAssertEqual(m.name, "golden-bottleneck")
        XCTAssertEqual(model.classes, ["background", "L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"])
        XCTAssertEqual(m.architecture.encoder.layers, [2, 1, 1, 1])
        XCTAssertEqual(m.architecture.encoder.stem, .deep)
        XCTAssertTrue(m.architecture.encoder.avgDown)
        XCTAssertEqual(m.input, InputSpec(height: 160, width: 160, channels: 3))
        XCTAssertEqual(m.normalization.scale, 255)
        XCTAssertEqual(m.normalization.mean.count, 3)
    }
}

final class ModelDigestTests: XCTestCase {
    /// The model's identity is the file's SHA-256 (swift-crypto), checked against coreutils' sha256sum.
    func testModelFileDigestMatchesSha256sum() throws {
        let url = fixture("golden_basic.safetensors")
        let model = try LocalizerModel(contentsOf: url)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        p.arguments = [url.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        p.waitUntilExit()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 0)
        XCTAssertEqual(model.sha256, String(out.prefix(64)))
    }
}
