// Per-level uncertainty metrics from the network's probability map. These numbers drive the risk,
// so they follow the reference formulas exactly (see tools/lstv_tools/reference.py), in Double.
import Foundation

/// A point in pixel coordinates (row, column), fractional. Encoded as `[row, col]`.
public struct PixelPoint: Equatable, Sendable, Codable {
    public var row: Double
    public var column: Double
    public init(row: Double, column: Double) {
        self.row = row
        self.column = column
    }
    public init(from decoder: Decoder) throws {
        var c = try decoder.unkeyedContainer()
        row = try c.decode(Double.self)
        column = try c.decode(Double.self)
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(row)
        try c.encode(column)
    }
}

/// Metrics of one level's probability channel.
public struct LevelMetrics: Equatable, Sendable {
    /// max(h).
    public var peakConfidence: Double
    /// -Σ p log(p + 1e-9), p = h / (Σh + 1e-9), natural log, over all pixels.
    public var entropy: Double
    /// The same over a 10x10 grid of block sums.
    public var spatialEntropy: Double
    /// Mean (row, col) of the pixels with h > 0.5 (strictly) on the probability grid; nil if none.
    /// With softmax outputs a pixel exceeds 0.5 in at most one channel, so levels cannot share pixels.
    public var point: PixelPoint?
}

public enum MetricsError: Error, Equatable, CustomStringConvertible {
    case shape(String)
    case nonFinite(level: String)
    case missingClass(String)

    public var description: String {
        switch self {
        case let .shape(m): return "probability map: \(m)"
        case let .nonFinite(l): return "probability map of \(l) has NaN or infinite values"
        case let .missingClass(c): return "model has no output class named \(c)"
        }
    }
}

public enum Metrics {
    public static let epsilon = 1e-9
    public static let grid = 10
    public static let pointThreshold: Float = 0.5
    /// A part of the above-threshold pixels smaller than this share of the largest is a fringe of
    /// it (a pixel or two at the edge of the map), not a second site.
    public static let siteMinShare = 0.25

    /// Metrics of one channel, row-major `rows * columns`, both multiples of `grid`.
    public static func level<C: Collection>(_ h: C, rows: Int, columns: Int, name: String = "channel") throws -> LevelMetrics
    where C.Element == Float, C.Index == Int {
        guard h.count == rows * columns, rows > 0, columns > 0 else {
            throw MetricsError.shape("\(h.count) values for \(rows)x\(columns)")
        }
        guard rows % grid == 0, columns % grid == 0 else {
            throw MetricsError.shape("\(rows)x\(columns) is not divisible into a \(grid)x\(grid) grid")
        }
        let bh = rows / grid, bw = columns / grid
        var peak = -Double.infinity
        var bins = [Double](repeating: 0, count: grid * grid)
        var total = 0.0  // Σh in pixel order, as `entropy` adds it
        var rowSum = 0.0, colSum = 0.0, n = 0
        var i = h.startIndex
        for r in 0..<rows {
            let binRow = (r / bh) * grid
            for c in 0..<columns {
                let v = h[i]
                i += 1
                guard v.isFinite else { throw MetricsError.nonFinite(level: name) }
                let d = Double(v)
                if d > peak { peak = d }
                total += d
                bins[binRow + c / bw] += d
                if v > pointThreshold {
                    rowSum += Double(r)
                    colSum += Double(c)
                    n += 1
                }
            }
        }
        return LevelMetrics(
            peakConfidence: peak,
            entropy: entropy(h.lazy.map(Double.init), total: total),
            spatialEntropy: entropy(bins),
            point: n > 0 ? PixelPoint(row: rowSum / Double(n), column: colSum / Double(n)) : nil)
    }

    /// `level(...).point` alone: the mean (row, col) of the pixels above `pointThreshold`, without
    /// the entropies (a landmark needs only its point).
    public static func point<C: Collection>(_ h: C, rows: Int, columns: Int, name: String = "channel") throws -> PixelPoint?
    where C.Element == Float, C.Index == Int {
        guard h.count == rows * columns, rows > 0, columns > 0 else {
            throw MetricsError.shape("\(h.count) values for \(rows)x\(columns)")
        }
        var rowSum = 0.0, colSum = 0.0, n = 0
        var i = h.startIndex
        for r in 0..<rows {
            for c in 0..<columns {
                let v = h[i]
                i += 1
                guard v.isFinite else { throw MetricsError.nonFinite(level: name) }
                if v > pointThreshold {
                    rowSum += Double(r)
                    colSum += Double(c)
                    n += 1
                }
            }
        }
        return n > 0 ? PixelPoint(row: rowSum / Double(n), column: colSum / Double(n)) : nil
    }

    /// The sites of one channel: the centroids of the connected parts (8-neighbourhood) of its pixels
    /// above `pointThreshold`, largest first, keeping parts of at least `siteMinShare` of the largest.
    /// Not a reference metric: a map that claims two discs has two sites, and the reference point
    /// (the mean of all those pixels) then lies between discs, which the ladder check reports.
    public static func sites<C: Collection>(_ h: C, rows: Int, columns: Int) -> [PixelPoint]
    where C.Element == Float, C.Index == Int {
        // A flag per pixel (above the threshold and not yet reached) rather than a set of indices:
        // the parts, their sizes and centroids do not depend on how they are walked, and seeds are
        // taken in pixel order as before, so the parts come out in the same order.
        var open = [Bool](repeating: false, count: rows * columns)
        var any = false
        var k = 0
        for i in h.indices {
            if h[i] > pointThreshold { open[k] = true; any = true }
            k += 1
        }
        guard any else { return [] }
        var parts: [(size: Int, point: PixelPoint)] = []
        var stack: [Int] = []
        for seed in 0..<open.count where open[seed] {
            open[seed] = false
            stack.append(seed)
            var size = 0, rowSum = 0.0, colSum = 0.0
            while let p = stack.popLast() {
                let r = p / columns, c = p % columns
                size += 1
                rowSum += Double(r)
                colSum += Double(c)
                for dr in -1...1 where r + dr >= 0 && r + dr < rows {
                    for dc in -1...1 where (dr, dc) != (0, 0) && c + dc >= 0 && c + dc < columns {
                        let q = (r + dr) * columns + c + dc
                        if open[q] { open[q] = false; stack.append(q) }
                    }
                }
            }
            parts.append((size, PixelPoint(row: rowSum / Double(size), column: colSum / Double(size))))
        }
        parts.sort { $0.size > $1.size }
        let minSize = Double(parts[0].size) * siteMinShare
        return parts.filter { Double($0.size) >= minSize }.map(\.point)
    }

    /// Metrics of the five discs from one image of the softmax output, channel-major
    /// [channels][rows*columns] (a slice of a batch output: read in place, not copied); channels are
    /// found by class name (the model may add landmark classes after the discs).
    public static func levels(probabilities: ArraySlice<Float>, classes: [String], rows: Int, columns: Int,
                              threads: Int = 1) throws -> [LevelName: LevelMetrics] {
        try perLevel(threads: threads) { level in
            guard let m = try channel(level.displayName, of: probabilities, classes: classes, rows: rows, columns: columns) else {
                throw MetricsError.missingClass(level.displayName)
            }
            return m
        }
    }

    /// Sites (`sites`) of the five discs from one image of the softmax output, read in place.
    public static func discSites(probabilities: ArraySlice<Float>, classes: [String], rows: Int, columns: Int,
                                 threads: Int = 1) throws -> [LevelName: [PixelPoint]] {
        try perLevel(threads: threads) { level in
            guard let plane = try plane(level.displayName, of: probabilities, classes: classes, rows: rows, columns: columns) else {
                throw MetricsError.missingClass(level.displayName)
            }
            return sites(plane, rows: rows, columns: columns)
        }
    }

    /// `body` for each disc level; with `threads` > 1 the levels run concurrently (each one's result
    /// is the same either way). The levels' entropies (a double-precision log per pixel) and sites
    /// are most of the work around the network: ~2 ms of a series at 160x160 on one thread.
    static func perLevel<T>(threads: Int, _ body: (LevelName) throws -> T) throws -> [LevelName: T] {
        let all = LevelName.allCases
        var results = [Result<T, Error>?](repeating: nil, count: all.count)
        if threads > 1 {
            results.withUnsafeMutableBufferPointer { slots in
                DispatchQueue.concurrentPerform(iterations: all.count) { i in slots[i] = Result { try body(all[i]) } }
            }
        } else {
            for i in all.indices { results[i] = Result { try body(all[i]) } }
        }
        var out: [LevelName: T] = [:]
        for (level, r) in zip(all, results) { out[level] = try r!.get() }
        return out
    }

    /// Points of the counting landmarks the model names (`LadderRung.landmarks`), decoded like the
    /// levels' points; a landmark with no pixel above 0.5, or one the model lacks, is absent.
    public static func landmarkPoints(probabilities: ArraySlice<Float>, classes: [String], rows: Int, columns: Int) throws -> [LadderRung: PixelPoint] {
        var out: [LadderRung: PixelPoint] = [:]
        for rung in LadderRung.landmarks {
            if let h = try plane(rung.className, of: probabilities, classes: classes, rows: rows, columns: columns),
               let p = try point(h, rows: rows, columns: columns, name: rung.className) {
                out[rung] = p
            }
        }
        return out
    }

    /// The metrics of the channel named `name` (nil when the model has no such class).
    static func channel(_ name: String, of probabilities: ArraySlice<Float>, classes: [String], rows: Int, columns: Int) throws -> LevelMetrics? {
        try plane(name, of: probabilities, classes: classes, rows: rows, columns: columns)
            .map { try level($0, rows: rows, columns: columns, name: name) }
    }

    /// The plane of the channel named `name`, in place (nil when the model has no such class).
    static func plane(_ name: String, of probabilities: ArraySlice<Float>, classes: [String], rows: Int, columns: Int) throws -> ArraySlice<Float>? {
        let plane = rows * columns
        guard probabilities.count == classes.count * plane else {
            throw MetricsError.shape("\(probabilities.count) values for \(classes.count) classes of \(rows)x\(columns)")
        }
        guard let k = classes.firstIndex(of: name) else { return nil }
        let start = probabilities.startIndex + k * plane
        return probabilities[start..<(start + plane)]
    }

    /// -Σ p log(p + ε), p = x / (Σx + ε). An all-zero map has entropy 0.
    static func entropy<S: Sequence>(_ x: S) -> Double where S.Element == Double {
        var total = 0.0
        for v in x { total += v }
        return entropy(x, total: total)
    }

    /// The same with Σx already added up (in the sequence's order).
    static func entropy<S: Sequence>(_ x: S, total: Double) -> Double where S.Element == Double {
        let denom = total + epsilon
        var h = 0.0
        for v in x {
            let p = v / denom
            h -= p * log(p + epsilon)
        }
        return h
    }
}
