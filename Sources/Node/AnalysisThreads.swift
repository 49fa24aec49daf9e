import Foundation

/// `analysis_threads`: the threads of one analysis (its engine pool), a number or `auto`. The
/// shipped configuration must read the same on every machine, so the machine's core count is not
/// written into it: `auto` is resolved when the analyzers are made, to the cores available
/// (`ProcessInfo.activeProcessorCount`) divided by the analyses that run at once (the node's
/// `analysis_workers`, `analyze --jobs`), at least 1.
public enum AnalysisThreads: Equatable, Sendable, Codable, CustomStringConvertible {
    case auto
    case fixed(Int)

    static let autoWord = "auto"

    /// Threads for each of `concurrent` analyses on a machine with `cores` cores available.
    public func resolved(concurrent: Int, cores: Int = ProcessInfo.processInfo.activeProcessorCount) -> Int {
        switch self {
        case .auto: return max(1, cores / max(1, concurrent))
        case let .fixed(n): return n
        }
    }

    /// As the configuration writes it.
    public var description: String {
        switch self {
        case .auto: return Self.autoWord
        case let .fixed(n): return "\(n)"
        }
    }

    /// Why a value is invalid.
    var problem: String? {
        if case let .fixed(n) = self, !(1...64).contains(n) { return "must be 1…64 or \(Self.autoWord)" }
        return nil
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        do { self = .fixed(try c.decode(Int.self)) } catch {
            // Not a number: the one word allowed.
            guard try c.decode(String.self) == Self.autoWord else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "a number of threads or \(Self.autoWord)")
            }
            self = .auto
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .auto: try c.encode(Self.autoWord)
        case let .fixed(n): try c.encode(n)
        }
    }
}
