// Issue 4: a ladder the network counts differently when the same slice is zoomed or moved by a few
// millimetres is not a count to trust. The middle slice is run again under a fixed set of small
// geometric perturbations (in the same batch as the neighbours); every disc point is mapped back to
// the original grid, and a disc that lands more than half a disc spacing from where the unperturbed
// slice put it has jumped to another disc. That makes the ladder `inconsistent`, whatever the
// entropy says: the level shifts of the bundled model are confident, low-entropy maps.
import Foundation

/// Zoom about the grid centre by `scale`, then move by (`rowShift`, `columnShift`) grid pixels.
public struct SlicePerturbation: Equatable, Sendable, CustomStringConvertible {
    public var scale: Double
    public var rowShift: Double
    public var columnShift: Double

    public init(scale: Double = 1, rowShift: Double = 0, columnShift: Double = 0) {
        self.scale = scale
        self.rowShift = rowShift
        self.columnShift = columnShift
    }

    /// Zoomed out and in by 20 %, moved 16 px (~20 % of the lumbar ladder) up and down, and two mixes.
    public static let standard: [SlicePerturbation] = [
        .init(scale: 0.8), .init(scale: 1.2), .init(rowShift: -16), .init(rowShift: 16),
        .init(scale: 0.9, rowShift: 8), .init(scale: 1.1, rowShift: -8),
    ]

    public var description: String {
        var parts: [String] = []
        if scale != 1 { parts.append(String(format: "zoomed %.2gx", scale)) }
        if rowShift != 0 { parts.append(String(format: "moved %g px %@", abs(rowShift), rowShift > 0 ? "down" : "up")) }
        if columnShift != 0 { parts.append(String(format: "moved %g px %@", abs(columnShift), columnShift > 0 ? "right" : "left")) }
        return parts.isEmpty ? "unchanged" : parts.joined(separator: " and ")
    }

    /// A point of the perturbed grid → the same anatomy on the original grid.
    public func unmap(_ p: PixelPoint, rows: Int, columns: Int) -> PixelPoint {
        let cr = Double(rows - 1) / 2, cc = Double(columns - 1) / 2
        return PixelPoint(row: (p.row - cr - rowShift) / scale + cr, column: (p.column - cc - columnShift) / scale + cc)
    }

    /// The perturbed 8-bit image: bilinear, black outside the original (cv2.warpAffine, INTER_LINEAR,
    /// BORDER_CONSTANT 0, up to its 1/32-pixel fixed-point rounding).
    public func apply(_ image: [UInt8], rows: Int, columns: Int) -> [UInt8] {
        BilinearResample.resample(image, rows: rows, columns: columns, outRows: rows, outColumns: columns) {
            unmap(PixelPoint(row: $0, column: $1), rows: rows, columns: columns)
        }
    }
}

public enum LadderStability {
    /// A disc that moves more than this share of the median disc spacing has left its disc.
    public static let maxMoveRatio = 0.5

    /// Violations (for `LadderCheck.reasons`): for each level, the worst perturbation that moved it
    /// to another disc. `base` and `perturbed` are grid points as the network output them; a level
    /// missing on either side is not judged here (the ladder check reports missing levels).
    public static func violations(base: [LevelName: PixelPoint],
                                  perturbed: [(SlicePerturbation, [LevelName: PixelPoint])],
                                  rows: Int, columns: Int) -> [String] {
        let present = LevelName.allCases.compactMap { base[$0] }
        guard present.count >= 2 else { return [] }
        let spacing = LevelLadder.median(zip(present, present.dropFirst()).map { hypot($1.row - $0.row, $1.column - $0.column) })
        guard spacing > 0 else { return [] }
        var out: [String] = []
        for level in LevelName.allCases {
            guard let b = base[level] else { continue }
            var worst: (ratio: Double, perturbation: SlicePerturbation)?
            for (p, points) in perturbed {
                guard let q = points[level] else { continue }
                let m = p.unmap(q, rows: rows, columns: columns)
                let ratio = hypot(m.row - b.row, m.column - b.column) / spacing
                if ratio > maxMoveRatio, ratio > (worst?.ratio ?? 0) { worst = (ratio, p) }
            }
            if let w = worst {
                out.append(String(format: "unstable count: %@ moves %.2fx the disc spacing when the slice is %@",
                                  level.displayName, w.ratio, w.perturbation.description))
            }
        }
        return out
    }
}

extension LadderCheck {
    /// The check with further violations: they make the ladder inconsistent and come before the
    /// missing-level reasons.
    public func adding(violations more: [String]) -> LadderCheck {
        guard !more.isEmpty else { return self }
        let missing = reasons.filter { $0.hasPrefix("no point for") }
        let others = reasons.filter { !$0.hasPrefix("no point for") }
        return LadderCheck(status: .inconsistent, reasons: others + more + missing, space: space)
    }
}
