import Foundation

/// A linear map from a data domain onto a pixel range, with tick values at "nice" steps
/// (1, 2 or 5 times a power of ten) so axis labels read as round numbers.
struct LinearScale {
    let domain: ClosedRange<Double>
    let range: ClosedRange<Double>
    /// Pixel ranges run bottom-to-top for y axes.
    let inverted: Bool

    init(domain: ClosedRange<Double>, range: ClosedRange<Double>, inverted: Bool = false) {
        // A degenerate domain (every value equal) is widened so the values sit in the middle.
        self.domain = domain.upperBound > domain.lowerBound ? domain : (domain.lowerBound - 0.5)...(domain.upperBound + 0.5)
        self.range = range
        self.inverted = inverted
    }

    func callAsFunction(_ v: Double) -> Double {
        let t = (v - domain.lowerBound) / (domain.upperBound - domain.lowerBound)
        let u = inverted ? 1 - t : t
        return range.lowerBound + u * (range.upperBound - range.lowerBound)
    }

    /// About `count` ticks inside the domain.
    func ticks(_ count: Int = 5) -> [Double] {
        let step = Self.niceStep((domain.upperBound - domain.lowerBound) / Double(max(1, count)))
        let first = (domain.lowerBound / step).rounded(.up) * step
        return stride(from: first, through: domain.upperBound + step * 1e-9, by: step).map { abs($0) < step * 1e-9 ? 0 : $0 }
    }

    /// The label of a tick: as many decimals as the step needs.
    func tickLabel(_ v: Double, count: Int = 5) -> String {
        let step = Self.niceStep((domain.upperBound - domain.lowerBound) / Double(max(1, count)))
        let decimals = max(0, Int(-log10(step).rounded(.down)))
        return String(format: "%.\(decimals)f", v)
    }

    static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let magnitude = pow(10, log10(raw).rounded(.down))
        let f = raw / magnitude
        return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * magnitude
    }

    /// The domain of `values` (finite ones), padded by `padding` of its width on each side; nil
    /// when there is no finite value.
    static func extent(_ values: [Double], padding: Double = 0) -> ClosedRange<Double>? {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return nil }
        let pad = (hi - lo) * padding
        return (lo - pad)...(hi + pad)
    }
}
