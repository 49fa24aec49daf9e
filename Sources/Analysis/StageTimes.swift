import Foundation

// Where an analysis' time goes (`lstv-node analyze --profile`, BENCHMARKS.md "One network pass"):
// each stage's seconds, summed over the series one analyzer ran. A clock read costs tens of
// nanoseconds, so the timers are always on.

/// The stages of one series' analysis, in the order they run.
public enum AnalysisStage: String, CaseIterable, Sendable {
    /// Reading and decoding the files (DCMTK), the rescale, the slice selection and order.
    case read
    /// The volume's intensity range (min-max over every pixel).
    case range
    /// Min-max to 8 bits of the slices that go through the network.
    case scale
    /// cv2's bilinear resize to the network's size.
    case resize
    /// Normalisation to the network's input and the perturbed copies.
    case input
    /// The engine's pass.
    case network
    /// The per-level metrics, landmark points and disc sites.
    case metrics
    /// The suspicion evidence (and the thoracolumbar locator's pass when on).
    case evidence
    /// The result: geometry, the ladder, neighbour spread, stability, risk, heatmaps.
    case assemble
}

/// Seconds per stage and per series.
public struct StageTimes: Sendable {
    public private(set) var seconds: [AnalysisStage: Double] = [:]
    /// Each series' whole analysis (read to result), in the order run.
    public private(set) var seriesSeconds: [Double] = []

    public init() {}

    /// Runs `body`, adding its time to `stage`.
    @inline(__always)
    public mutating func time<T>(_ stage: AnalysisStage, _ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { seconds[stage, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return try body()
    }

    mutating func addSeries(_ s: Double) { seriesSeconds.append(s) }

    /// Both analyzers' times together (stages summed, series one after the other).
    public static func + (a: StageTimes, b: StageTimes) -> StageTimes {
        var c = a
        c.seconds.merge(b.seconds, uniquingKeysWith: +)
        c.seriesSeconds += b.seriesSeconds
        return c
    }
}
