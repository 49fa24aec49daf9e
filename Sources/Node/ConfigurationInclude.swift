import Foundation
import Yams

/// `include: [FILE, …]` in a configuration file: the included files' keys apply first, in order,
/// and the including file's own keys override them. Paths are relative to the including file.
/// An included file may not include others (one level: no cycles, and one place to look).
enum ConfigurationInclude {
    static let key = "include"

    /// The YAML to decode, with the includes merged in, and the included paths as written.
    static func merged(path: String) throws -> (text: String, included: [String]) {
        let text = try read(path)
        guard case let .mapping(main)? = try compose(text, path), let list = main[key] else { return (text, []) }
        let included: [String]
        switch list {
        case .scalar(let s): included = [s.string]
        case .sequence(let items): included = try items.map {
            guard let s = $0.string else { throw ConfigurationError("\(path): include: each entry must be a file name") }
            return s
        }
        default: throw ConfigurationError("\(path): include must be a file name or a list of them")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        var pairs: [(Node, Node)] = []
        for name in included {
            let file = name.hasPrefix("/") ? name : base.appendingPathComponent(name).path
            guard let node = try compose(try read(file), file) else { continue }
            guard case let .mapping(m) = node else { throw ConfigurationError("\(file) (included by \(path)) is not a mapping of keys") }
            if m[key] != nil { throw ConfigurationError("\(file) (included by \(path)) includes other files: one level only") }
            pairs = pairs.filter { p in !m.keys.contains(p.0) } + Array(m)
        }
        let own = main.filter { $0.key.string != key }
        pairs = pairs.filter { p in !own.contains { $0.key == p.0 } } + own.map { ($0.key, $0.value) }
        return (try Yams.serialize(node: .mapping(Node.Mapping(pairs))), included)
    }

    static func read(_ path: String) throws -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigurationError("cannot read configuration file \(path): \(error.localizedDescription)")
        }
    }

    static func compose(_ text: String, _ path: String) throws -> Node? {
        do { return try Yams.compose(yaml: text) } catch { throw ConfigurationError("invalid configuration file \(path): \(error)") }
    }
}
