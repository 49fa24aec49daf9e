// localizer-bench: times lstv-node's engine on one model file at one (batch, threads) setting and
// prints one JSON line. bench/localizer/run.sh drives it (one process per setting, so peak RSS is
// per setting) next to PyTorch and onnxruntime.
//
//   localizer-bench --model M.safetensors [--batch 8] [--threads 2] [--seconds 4] [--cases C.safetensors]
//                   [--winograd-min-plane 100]
//
// --cases: a file with "input" (n x 3 x H x W, normalised) and "probs" (PyTorch's output): the run
// uses that input and reports the max |engine - PyTorch| over the probabilities it computed.

import Engine
import Foundation

let action = Engine.prepareEnvironment()  // may re-exec with OPENBLAS_CORETYPE set; must come first

func arg(_ name: String) -> String? {
    let a = CommandLine.arguments
    guard let i = a.firstIndex(of: name), i + 1 < a.count else { return nil }
    return a[i + 1]
}

func peakRSSBytes() -> Int {
    // VmHWM: the high-water mark of resident memory, in kB.
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1) * 1024
    }
    return -1
}

func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6
}

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

guard let modelPath = arg("--model") else {
    FileHandle.standardError.write(Data("usage: localizer-bench --model M.safetensors [--batch N] [--threads T] [--seconds S] [--cases C]\n".utf8))
    exit(2)
}
let batch = Int(arg("--batch") ?? "8")!
let threads = Int(arg("--threads") ?? "2")!
let seconds = Double(arg("--seconds") ?? "4")!

do {
    let t0 = now()
    let minPlane = Int(arg("--winograd-min-plane") ?? "100")!
    let model = try LocalizerModel(contentsOf: URL(fileURLWithPath: modelPath), winogradMinPlane: minPlane)
    let loadSeconds = now() - t0
    let session = try model.makeSession(batch: batch, threads: threads)
    if CommandLine.arguments.contains("--plan") { FileHandle.standardError.write(Data((session.planDescription + "\n").utf8)) }
    let per = session.inputCountPerImage
    var input = [Float](repeating: 0, count: batch * per)
    var expected: [Float]? = nil
    if let casesPath = arg("--cases") {
        let cases = try SafeTensorsFile(path: casesPath)
        let x = try cases.floats("input"), p = try cases.floats("probs")
        guard x.count >= batch * per else { throw EngineError.badInput("cases hold \(x.count / per) images, batch is \(batch)") }
        input = Array(x[0..<(batch * per)])
        expected = Array(p[0..<(batch * session.outputCountPerImage)])
    } else {
        var s: UInt32 = 12345
        for i in 0..<input.count { s = s &* 1_664_525 &+ 1_013_904_223; input[i] = Float(Int32(bitPattern: s >> 8) - (1 << 23)) / Float(1 << 23) }
    }
    var output = [Float](repeating: 0, count: batch * session.outputCountPerImage)
    func once() throws {
        try input.withUnsafeBufferPointer { i in try output.withUnsafeMutableBufferPointer { try session.run(input: i, output: $0) } }
    }
    try once(); try once()  // warm-up: OpenBLAS threads, page faults in the arena
    var times: [Double] = []
    let start = now(), cpuStart = cpuSeconds()
    while times.count < 5 || (now() - start < seconds && times.count < 200) {
        let a = now()
        try once()
        times.append(now() - a)
    }
    let cpuPerSlice = (cpuSeconds() - cpuStart) / Double(times.count * batch)
    times.sort()
    let median = times[times.count / 2]
    var maxDiff: Float = -1
    if let e = expected {
        maxDiff = 0
        for i in 0..<e.count { maxDiff = max(maxDiff, abs(e[i] - output[i])) }
        if output.contains(where: { $0.isNaN }) { maxDiff = .infinity }
    }
    let fileBytes = (try FileManager.default.attributesOfItem(atPath: modelPath)[.size] as? NSNumber)?.intValue ?? -1
    let result: [String: Any] = [
        "runtime": "engine", "batch": batch, "threads": threads, "iterations": times.count,
        "ms_per_slice": median * 1000 / Double(batch), "ms_per_batch_min": times[0] * 1000,
        "cpu_ms_per_slice": cpuPerSlice * 1000, "winograd_min_plane": minPlane,
        "gflop_per_slice": session.flopsPerImage / 1e9,
        "gflops": session.flopsPerImage * Double(batch) / median / 1e9,
        "peak_rss_mb": Double(peakRSSBytes()) / 1e6, "weights_file_mb": Double(fileBytes) / 1e6,
        "arena_mb": Double(session.arenaBytes) / 1e6, "load_s": loadSeconds,
        "max_abs_diff_vs_pytorch": maxDiff, "blas_core": Engine.blasCoreName, "environment": "\(action)",
    ]
    if getenv("LSTV_ENGINE_PROFILE") != nil { FileHandle.standardError.write(Data((session.profileDescription + "\n").utf8)) }
    let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
} catch {
    FileHandle.standardError.write(Data("localizer-bench: \(error)\n".utf8))
    exit(1)
}
