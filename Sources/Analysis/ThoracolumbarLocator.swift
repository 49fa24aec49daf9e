import Engine
import Foundation

// The count's second anchor. The localizer numbers its levels up from the sacrum; on a spine with
// four or six lumbar vertebrae it moves its whole ladder and stays confident, so nothing in its own
// maps disagrees. The thoracolumbar locator is a second, small network that only ever sees a window
// of `windowSteps` level steps around the disc the localizer calls T12/L1: the sacrum, five steps
// and more below, is never in it. It finds T12/L1 from local appearance (the thoracic bodies and
// discs above, the lumbar ones below, the conus and the crura), trained on normal anatomy with the
// window moved along the spine so that the window's centre says nothing (tools/train_thoracolumbar.py).
// Where it puts T12/L1 — one disc above, on, or one disc below the localizer's rung — is the
// posterior over a lumbar count of 6, 5 or 4.

public final class ThoracolumbarLocator {
    public let model: LocalizerModel
    /// Window side in level steps (the model's `window` metadata).
    public let windowSteps: Double
    private let session: Session
    private let channel: Int
    /// A candidate disc collects the locator's probability within this share of a step.
    static let captureRadius = 0.5
    /// Below this much T12/L1 probability in the window the locator found nothing.
    static let minimumMass = 1.0

    public struct Window: Codable, Sendable {
        public let steps: Double
    }

    public init(model: LocalizerModel, threads: Int = 1) throws {
        self.model = model
        guard let c = model.classes.firstIndex(of: LadderRung.t12_l1.className) else {
            throw SuspicionError("thoracolumbar locator \(model.url.path) has no \(LadderRung.t12_l1.className) class")
        }
        channel = c
        guard let text = model.metadata.raw["window"] else {
            throw SuspicionError("thoracolumbar locator \(model.url.path) has no 'window' metadata ({\"steps\": N})")
        }
        let w: Window
        do { w = try JSONDecoder().decode(Window.self, from: Data(text.utf8)) } catch {
            throw SuspicionError("thoracolumbar locator \(model.url.path): 'window' metadata is not {\"steps\": N}: \(error)")
        }
        guard w.steps > 0, w.steps.isFinite else {
            throw SuspicionError("thoracolumbar locator \(model.url.path): window steps must be positive, not \(w.steps)")
        }
        windowSteps = w.steps
        session = try model.makeSession(batch: 1, threads: threads)
    }

    /// The window's geometry on the localizer's grid: centred on `center`, `windowSteps` × `step` px square.
    struct Geometry {
        let center: PixelPoint
        let scale: Double   // window px per grid px
        let half: Double
        func toWindow(_ p: PixelPoint) -> PixelPoint {
            PixelPoint(row: (p.row - center.row) * scale + half, column: (p.column - center.column) * scale + half)
        }
        func toGrid(row: Double, column: Double) -> PixelPoint {
            PixelPoint(row: (row - half) / scale + center.row, column: (column - half) / scale + center.column)
        }
    }

    /// The posterior over the lumbar count {4, 5, 6} for one 8-bit grid image (the localizer's
    /// input) given the localizer's ladder on it: `t12l1` its T12/L1 point, `axis` the unit vector
    /// down the spine, `step` its disc spacing (grid px). Nil when the locator finds nothing.
    public func countPosterior(grid: [UInt8], rows: Int, columns: Int, t12l1: PixelPoint, axis: (row: Double, column: Double),
                               step: Double) throws -> [Int: Double]? {
        let size = model.inputHeight
        let g = Geometry(center: t12l1, scale: Double(size) / (windowSteps * step), half: Double(size - 1) / 2)
        let window = Self.sample(grid, rows: rows, columns: columns, size: size, geometry: g)
        let n = model.normalization
        let input = try Preprocess.networkInput(window, normalization: InputNormalization(scale: n.scale, mean: n.mean, std: n.std),
                                                channels: model.metadata.input.channels)
        let out = try session.run(input: input)
        let plane = size * size
        let map = out[(channel * plane)..<((channel + 1) * plane)]
        var masses: [Int: Double] = [:]
        let radius = Self.captureRadius * step * g.scale
        for k in -1...1 {
            let q = g.toWindow(PixelPoint(row: t12l1.row + Double(k) * step * axis.row, column: t12l1.column + Double(k) * step * axis.column))
            var m = 0.0
            var i = map.startIndex
            for r in 0..<size {
                for c in 0..<size {
                    let dr = Double(r) - q.row, dc = Double(c) - q.column
                    if dr * dr + dc * dc <= radius * radius { m += Double(map[i]) }
                    i += 1
                }
            }
            masses[5 - k] = m  // T12/L1 one disc above the rung (k = -1): six lumbar
        }
        let total = masses.values.reduce(0, +)
        guard total >= Self.minimumMass else { return nil }
        return masses.mapValues { $0 / total }
    }

    /// The window, sampled as in training (cv2.warpAffine, bilinear, black outside).
    static func sample(_ image: [UInt8], rows: Int, columns: Int, size: Int, geometry g: Geometry) -> [UInt8] {
        BilinearResample.resample(image, rows: rows, columns: columns, outRows: size, outColumns: size) {
            g.toGrid(row: $0, column: $1)
        }
    }
}
