// A series as an ordered volume. The order decides which slice is "the middle one" the network sees,
// so it follows the reference exactly: ascending IPP · normal, else InstanceNumber.

/// How a `SliceStack` was ordered.
public enum SliceOrdering: String, Codable, Sendable {
    /// Ascending ImagePositionPatient · (rowDir × colDir) of the first slice.
    case slicePosition
    /// Ascending InstanceNumber (missing = 0, ties keep the given order): geometry was missing or
    /// two slices share a position along the normal, as in the reference.
    case instanceNumber
}

public enum SliceStackError: Error, Equatable, CustomStringConvertible {
    case empty
    case pixelCount(sopInstanceUID: String, expected: Int, actual: Int)
    case mixedSizes(first: String, other: String, firstSize: [Int], otherSize: [Int])
    case mixedOrientations(first: String, other: String)

    public var description: String {
        switch self {
        case .empty:
            return "series has no slices"
        case let .pixelCount(uid, expected, actual):
            return "slice \(uid): \(actual) pixel values for \(expected) (rows x columns)"
        case let .mixedSizes(first, other, a, b):
            return "slices differ in size: \(first) is \(a[0])x\(a[1]), \(other) is \(b[0])x\(b[1])"
        case let .mixedOrientations(first, other):
            return "slices differ in orientation: \(first) and \(other) (not one stack)"
        }
    }
}

/// The slices of one series, validated (one size, one orientation) and ordered.
public struct SliceStack: Sendable {
    public let slices: [SourceSlice]
    public let ordering: SliceOrdering

    /// Direction cosines may differ by float noise in the text of the DICOM attribute; more than this
    /// (≈ 0.06°) is a different orientation.
    public static let orientationTolerance = 1e-3

    public init(_ input: [SourceSlice]) throws {
        guard let first = input.first else { throw SliceStackError.empty }
        for s in input {
            guard s.pixels.count == s.rows * s.columns, s.rows > 0, s.columns > 0 else {
                throw SliceStackError.pixelCount(sopInstanceUID: s.sopInstanceUID,
                                                 expected: s.rows * s.columns, actual: s.pixels.count)
            }
            if s.rows != first.rows || s.columns != first.columns {
                throw SliceStackError.mixedSizes(first: first.sopInstanceUID, other: s.sopInstanceUID,
                                                 firstSize: [first.rows, first.columns], otherSize: [s.rows, s.columns])
            }
            if let a = first.imageOrientationPatient, let b = s.imageOrientationPatient, !Self.sameOrientation(a, b) {
                throw SliceStackError.mixedOrientations(first: first.sopInstanceUID, other: s.sopInstanceUID)
            }
        }
        (slices, ordering) = Self.order(input)
    }

    /// Equal within `orientationTolerance`.
    static func sameOrientation(_ a: ImageOrientation, _ b: ImageOrientation) -> Bool {
        max(maxAbs(a.row - b.row), maxAbs(a.column - b.column)) <= orientationTolerance
    }

    public var count: Int { slices.count }
    public var rows: Int { slices[0].rows }
    public var columns: Int { slices[0].columns }
    /// The reference's `volume[len(volume) // 2]`.
    public var middleIndex: Int { slices.count / 2 }
    public var middle: SourceSlice { slices[middleIndex] }

    /// Keys are IPP · normal with the normal of the first slice (the reference's choice). Exact key
    /// equality (duplicates) falls back to InstanceNumber, as the reference does.
    static func order(_ input: [SourceSlice]) -> ([SourceSlice], SliceOrdering) {
        if let normal = input[0].imageOrientationPatient?.normal {
            let keys = input.compactMap { s -> Double? in
                guard let p = s.imagePositionPatient else { return nil }
                return p.x * normal.x + p.y * normal.y + p.z * normal.z
            }
            if keys.count == input.count, Set(keys).count == keys.count {
                let idx = input.indices.sorted { keys[$0] < keys[$1] }
                return (idx.map { input[$0] }, .slicePosition)
            }
        }
        // Stable: ties (and missing numbers, taken as 0) keep the order given.
        let idx = input.indices.sorted {
            let a = input[$0].instanceNumber ?? 0, b = input[$1].instanceNumber ?? 0
            return a != b ? a < b : $0 < $1
        }
        return (idx.map { input[$0] }, .instanceNumber)
    }

    private static func maxAbs(_ v: SIMD3<Double>) -> Double { max(abs(v.x), abs(v.y), abs(v.z)) }
}
