import Foundation

// A series is analysed from the instances that can be: one odd instance (no pixel data, another
// size, a file DCMTK cannot read) must not cost the whole series its report. Such instances are
// left out and named, with the reason, in the result.

/// One instance the analysis left out, and why (`SliceExclusion.Reason`'s text).
public struct ExcludedInstance: Codable, Equatable, Sendable {
    /// The SOP Instance UID (the caller's, else the file's), or the file's path when neither gave it;
    /// "UID frame N" for one frame of an enhanced multi-frame image (its other frames may be used).
    public var instance: String
    public var reason: String

    public init(instance: String, reason: String) {
        self.instance = instance
        self.reason = reason
    }

    public init(instance: String, reason: SliceExclusion.Reason) {
        self.init(instance: instance, reason: reason.description)
    }
}

public enum SliceExclusion {
    /// Why an instance gives no usable slice.
    public enum Reason: Equatable, Sendable, CustomStringConvertible {
        case noPixelData
        case multiFrame(frames: Int)
        /// Its pixel data does not hold rows × columns values.
        case pixelCount(actual: Int, rows: Int, columns: Int)
        /// Its size is not the series' (the size most of its readable slices have).
        case size(rows: Int, columns: Int, seriesRows: Int, seriesColumns: Int)
        /// Its ImageOrientationPatient is not the one most of the series' slices of its size have.
        case orientation(ImageOrientation, series: ImageOrientation)
        case unreadable(String)
        /// The series comes in more than one form — single-frame instances, enhanced multi-frame
        /// instances — and another form, with `analysed` slices, is the stack analysed.
        case otherForm(slices: Int, analysed: Int)

        public var description: String {
            switch self {
            case .noPixelData: return "no pixel data"
            case let .multiFrame(frames): return "multi-frame image (\(frames) frames) without functional groups; single-frame slices or enhanced multi-frame images are analysed"
            case let .pixelCount(actual, rows, columns): return "pixel data holds \(actual) values for \(rows)x\(columns)"
            case let .size(r, c, sr, sc): return "rows/columns \(r)x\(c) differ from the series' \(sr)x\(sc)"
            case let .orientation(o, series):
                return "image orientation \(Self.text(o)) differs from the series' \(Self.text(series))"
            case let .unreadable(error): return "cannot be read: \(error)"
            case let .otherForm(slices, analysed):
                return "another form of the series was analysed (\(analysed) slices against these \(slices)): single-frame instances and enhanced instances are never stacked together"
            }
        }

        static func text(_ o: ImageOrientation) -> String {
            [o.row.x, o.row.y, o.row.z, o.column.x, o.column.y, o.column.z].map { String(format: "%g", $0) }.joined(separator: "\\")
        }
    }
}

/// A file of a series to analyse: its path and, when the caller knows it (the node's index), its
/// SOP Instance UID, which names the instance even when the file cannot be read.
public struct SliceFile: Sendable {
    public var path: String
    public var sopInstanceUID: String?

    public init(path: String, sopInstanceUID: String? = nil) {
        self.path = path
        self.sopInstanceUID = sopInstanceUID
    }
}

public enum SeriesSlicesError: Error, Equatable, CustomStringConvertible {
    /// Fewer usable slices than `SeriesSlices.minimumUsable` of the series' instances.
    case tooFewUsable(usable: Int, instances: Int, needed: Int, excluded: [ExcludedInstance])

    public var description: String {
        switch self {
        case let .tooFewUsable(usable, instances, needed, excluded):
            return "only \(usable) of \(instances) instances usable (at least \(needed) needed); excluded: "
                + excluded.map { "\($0.instance): \($0.reason)" }.joined(separator: "; ")
        }
    }
}

/// The usable slices of a series as a `SliceStack`, and the instances left out.
public struct SeriesSlices: Sendable {
    public let stack: SliceStack
    /// The unreadable files first, then the slices left out by their pixels, size or orientation,
    /// each in the order given.
    public let excluded: [ExcludedInstance]

    /// At least half of a series' instances (rounded up), and at least one, must be usable: a
    /// series mostly made of unusable instances is not the series its description claims.
    public static func minimumUsable(instances: Int) -> Int { max(1, (instances + 1) / 2) }

    /// Reads every file (an enhanced instance: the stack `stackChoice` picks); the ones that give no
    /// slice are left out with their reason.
    public static func load(_ files: [SliceFile], stackChoice: StackChoice = EnhancedFrames.largestStack) throws -> SeriesSlices {
        var loaded: [SourceSlice] = []
        var unreadable: [ExcludedInstance] = []
        for f in files {
            do { loaded.append(contentsOf: try DicomSlices.slices(path: f.path, stackChoice: stackChoice)) } catch let e as DicomSlices.LoadError {
                unreadable.append(ExcludedInstance(instance: f.sopInstanceUID ?? e.sopInstanceUID ?? f.path, reason: e.reason))
            }
        }
        return try select(loaded, alreadyExcluded: unreadable, instances: files.count)
    }

    /// Leaves out the slices whose pixel count is not their rows × columns, those whose size is
    /// not the series' — the size most slices have (ties: the larger image, then more rows, so
    /// the choice never depends on the order of the files) — and those whose orientation is not
    /// the one most of the rest have, and stacks the rest.
    public static func select(_ slices: [SourceSlice], alreadyExcluded: [ExcludedInstance] = [],
                              instances: Int? = nil) throws -> SeriesSlices {
        let total = instances ?? slices.count + alreadyExcluded.count
        var excluded = alreadyExcluded
        var whole: [SourceSlice] = []
        for s in oneForm(slices, excluded: &excluded) {
            if s.rows > 0, s.columns > 0, s.pixels.count == s.rows * s.columns {
                whole.append(s)
            } else {
                excluded.append(ExcludedInstance(instance: s.excludedName,
                                                 reason: .pixelCount(actual: s.pixels.count, rows: s.rows, columns: s.columns)))
            }
        }
        var counts: [Size: Int] = [:]
        for s in whole { counts[Size(rows: s.rows, columns: s.columns), default: 0] += 1 }
        let seriesSize = counts.max { a, b in (a.value, a.key.rows * a.key.columns, a.key.rows) < (b.value, b.key.rows * b.key.columns, b.key.rows) }?.key
        var usable: [SourceSlice] = []
        for s in whole {
            if let size = seriesSize, s.rows != size.rows || s.columns != size.columns {
                excluded.append(ExcludedInstance(instance: s.excludedName, reason: .size(
                    rows: s.rows, columns: s.columns, seriesRows: size.rows, seriesColumns: size.columns)))
            } else {
                usable.append(s)
            }
        }
        usable = majorityOrientation(usable, excluded: &excluded)
        let needed = minimumUsable(instances: total)
        guard usable.count >= needed else {
            throw SeriesSlicesError.tooFewUsable(usable: usable.count, instances: total, needed: needed, excluded: excluded)
        }
        return SeriesSlices(stack: try SliceStack(usable), excluded: excluded)
    }

    private struct Size: Hashable { let rows: Int, columns: Int }

    /// The slices of one form of the series. A series may hold the same images twice — single-frame
    /// instances and an enhanced instance converted from them, or two enhanced instances — whose
    /// slices share positions: stacked together they would interleave. So the form with the most
    /// slices (ties: the single-frame instances, then the enhanced instance met first) is kept, and
    /// each other form is left out, an enhanced instance once by its UID, a single-frame instance each.
    static func oneForm(_ slices: [SourceSlice], excluded: inout [ExcludedInstance]) -> [SourceSlice] {
        // nil: the single-frame instances; else the enhanced instance's SOP Instance UID.
        var order: [String?] = []
        var forms: [String?: [SourceSlice]] = [:]
        for s in slices {
            let form = s.frameNumber == nil ? nil : s.sopInstanceUID
            if forms[form] == nil { order.append(form) }
            forms[form, default: []].append(s)
        }
        guard order.count > 1 else { return slices }
        let ranked = order.enumerated().sorted { a, b in
            let (na, nb) = (forms[a.element]!.count, forms[b.element]!.count)
            if na != nb { return na > nb }
            if (a.element == nil) != (b.element == nil) { return a.element == nil }
            return a.offset < b.offset
        }
        let kept = ranked[0].element
        let analysed = forms[kept]!.count
        for form in order where form != kept {
            let reason = SliceExclusion.Reason.otherForm(slices: forms[form]!.count, analysed: analysed)
            if let uid = form {
                excluded.append(ExcludedInstance(instance: uid, reason: reason))
            } else {
                excluded += forms[form]!.map { ExcludedInstance(instance: $0.sopInstanceUID, reason: reason) }
            }
        }
        return slices.filter { ($0.frameNumber == nil ? nil : $0.sopInstanceUID) == kept }
    }

    /// Leaves out the slices whose orientation (beyond `SliceStack.orientationTolerance`) is not
    /// the one most slices have. Without a strict majority the slices are kept as they are, and
    /// `SliceStack` refuses them as more than one stack; slices without an orientation are kept.
    static func majorityOrientation(_ slices: [SourceSlice], excluded: inout [ExcludedInstance]) -> [SourceSlice] {
        var groups: [(orientation: ImageOrientation, count: Int)] = []
        for o in slices.compactMap(\.imageOrientationPatient) {
            if let i = groups.firstIndex(where: { SliceStack.sameOrientation($0.orientation, o) }) {
                groups[i].count += 1
            } else {
                groups.append((o, 1))
            }
        }
        let counts = groups.map(\.count).sorted(by: >)
        guard counts.count > 1, counts[0] > counts[1], let series = groups.first(where: { $0.count == counts[0] })?.orientation else {
            return slices
        }
        return slices.filter { s in
            guard let o = s.imageOrientationPatient, !SliceStack.sameOrientation(o, series) else { return true }
            excluded.append(ExcludedInstance(instance: s.excludedName, reason: .orientation(o, series: series)))
            return false
        }
    }
}

extension SourceSlice {
    /// How `ExcludedInstance` names the slice: its SOP Instance UID, with the frame number when the
    /// slice is one frame of a multi-frame image, so that the instance's other frames still count
    /// as analysed (evidence).
    var excludedName: String { frameNumber.map { "\(sopInstanceUID) frame \($0)" } ?? sopInstanceUID }
}
