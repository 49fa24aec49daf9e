import Foundation
import Yams

/// A key's name in the configuration file.
public struct ConfigurationKeyName: CodingKey {
    public let stringValue: String
    public var intValue: Int? { nil }
    public init(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}

/// One key of the configuration file, declared once: its name, where its value lives (the
/// property's initial value is the embedded default), its doc and what makes a value invalid.
/// Decoding, validation, `check-config` and config/lstv-node.yaml all follow from the declaration.
public struct ConfigurationKey<Root> {
    public let name: String
    /// The comment the shipped file gives the key (one line beside a value, lines above a block).
    public let doc: String
    let decode: (KeyedDecodingContainer<ConfigurationKeyName>, inout Root) throws -> Void
    /// Why the value is invalid, each as `key: why` (a section's keys as `section.key: why`).
    let problems: (Root) -> [String]
    /// The key and its value as YAML lines (`template`: an unset optional shows its example).
    let render: (Root, _ template: Bool) throws -> [String]

    private init(name: String, doc: String, decode: @escaping (KeyedDecodingContainer<ConfigurationKeyName>, inout Root) throws -> Void,
                 problems: @escaping (Root) -> [String], render: @escaping (Root, Bool) throws -> [String]) {
        self.name = name; self.doc = doc; self.decode = decode; self.problems = problems; self.render = render
    }

    /// A plain key's check as its problem list.
    private static func named(_ name: String, _ why: String?) -> [String] { why.map { ["\(name): \($0)"] } ?? [] }

    /// Reads the key, when present, into the root.
    private static func reading<Value: Decodable>(_ name: String, _ assign: @escaping (inout Root, Value) -> Void)
        -> (KeyedDecodingContainer<ConfigurationKeyName>, inout Root) throws -> Void {
        { c, root in
            if let v = try c.decodeIfPresent(Value.self, forKey: ConfigurationKeyName(stringValue: name)) { assign(&root, v) }
        }
    }

    /// A value written on the key's line (a scalar, or a list or mapping in flow style).
    init<Value: Codable>(_ name: String, _ path: WritableKeyPath<Root, Value>, _ doc: String,
                         check: @escaping (Value) -> String? = { _ in nil }) {
        self.init(name: name, doc: doc, decode: Self.reading(name) { $0[keyPath: path] = $1 },
                  problems: { Self.named(name, check($0[keyPath: path])) },
                  render: { root, _ in [ConfigurationYAML.line(name, try ConfigurationYAML.flow(root[keyPath: path]), doc)] })
    }

    /// An optional value with no default: the shipped file shows `example`, commented out.
    init<Value: Codable>(_ name: String, _ path: WritableKeyPath<Root, Value?>, _ doc: String, example: String,
                         check: @escaping (Value) -> String? = { _ in nil }) {
        self.init(name: name, doc: doc, decode: Self.reading(name) { (root, v: Value) in root[keyPath: path] = v },
                  problems: { Self.named(name, $0[keyPath: path].flatMap(check)) },
                  render: { root, template in
                      if let v = root[keyPath: path] { return [ConfigurationYAML.line(name, try ConfigurationYAML.flow(v), doc)] }
                      return [ConfigurationYAML.line("# \(name)", template ? example : "(not set)", doc)]
                  })
    }

    /// A value written as a block under the key (the routing rules), its doc as comments above it.
    init<Value: Codable>(block name: String, _ path: WritableKeyPath<Root, Value>, _ doc: String,
                         check: @escaping (Value) -> String? = { _ in nil }) {
        self.init(name: name, doc: doc, decode: Self.reading(name) { $0[keyPath: path] = $1 },
                  problems: { Self.named(name, check($0[keyPath: path])) },
                  render: { root, _ in
                      ["\(name):"] + ConfigurationYAML.comments(doc, indent: "  ")
                          + (try ConfigurationYAML.block(root[keyPath: path])).map { "  " + $0 }
                  })
    }

    /// A nested section (`results:`), its keys indented under it.
    init<Section: ConfigurationSection>(section name: String, _ path: WritableKeyPath<Root, Section>, _ doc: String) {
        self.init(name: name, doc: doc, decode: Self.reading(name) { $0[keyPath: path] = $1 },
                  problems: { $0[keyPath: path].problems().map { "\(name).\($0)" } },
                  render: { root, template in
                      [ConfigurationYAML.line(name, nil, doc)] + (try root[keyPath: path].yaml(template: template)).map { "  " + $0 }
                  })
    }
}

/// A mapping of keys: the whole file (`NodeConfiguration`) or a nested one (`results`). Every key
/// is optional; a key the section does not declare is an error that names it.
public protocol ConfigurationSection: Decodable {
    init()
    static var keys: [ConfigurationKey<Self>] { get }
    /// Comment lines written before a key, by key name (the file's section headings).
    static var headings: [String: String] { get }
    /// Problems that involve several keys, after each key's own.
    var crossKeyProblems: [String] { get }
}

extension ConfigurationSection {
    public static var headings: [String: String] { [:] }
    public var crossKeyProblems: [String] { [] }

    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: ConfigurationKeyName.self)
        let known = Self.keys.map(\.name)
        for key in c.allKeys where !known.contains(key.stringValue) {
            let guess = ConfigurationSpelling.nearest(key.stringValue, in: known).map { "; did you mean '\($0)'?" } ?? ""
            throw ConfigurationError(key: key.stringValue, "unknown key\(guess) (known here: \(known.joined(separator: ", ")))")
        }
        for key in Self.keys {
            do { try key.decode(c, &self) } catch let error as ConfigurationError {
                throw error.within(key.name)
            } catch let error as DecodingError {
                throw ConfigurationError(key: key.name, ConfigurationSpelling.describe(error))
            } catch {
                throw ConfigurationError(key: key.name, "\(error)")
            }
        }
    }

    /// Each invalid key, named (`key: why`, `section.key: why`), then the problems between keys.
    public func problems() -> [String] {
        Self.keys.flatMap { $0.problems(self) } + crossKeyProblems
    }

    /// The section as YAML lines, headings and docs included.
    public func yaml(template: Bool) throws -> [String] {
        var lines: [String] = []
        for key in Self.keys {
            if let heading = Self.headings[key.name] {
                if !lines.isEmpty { lines.append("") }
                lines.append(ConfigurationYAML.heading(heading))
            }
            lines += try key.render(self, template)
        }
        return lines
    }
}

/// How keys are written: `key: value` with the doc aligned beside it, flow style for lists.
enum ConfigurationYAML {
    static let docColumn = 30

    static func line(_ key: String, _ value: String?, _ doc: String) -> String {
        let text = value.map { "\(key): \($0)" } ?? "\(key):"
        let pad = String(repeating: " ", count: max(1, docColumn - text.count))
        return doc.isEmpty ? text : text + pad + "# " + doc
    }

    static func comments(_ doc: String, indent: String) -> [String] {
        doc.split(separator: "\n", omittingEmptySubsequences: false).map { indent + "# " + $0 }
    }

    static func heading(_ title: String) -> String {
        let text = "# --- \(title) "
        return text + String(repeating: "-", count: max(3, 100 - text.count))
    }

    /// One line: scalars plain where that reads back the same, lists and mappings in flow style.
    static func flow<Value: Encodable>(_ value: Value) throws -> String {
        text(try node(value), flow: true)
    }

    /// Lines: mappings and lists in block style (the routing rules).
    static func block<Value: Encodable>(_ value: Value) throws -> [String] {
        blockLines(try node(value))
    }

    /// Yams' encoder gives the structure in declaration order; numbers are then written as people
    /// write them (10, 0.5) rather than as its scientific notation.
    static func node<Value: Encodable>(_ value: Value) throws -> Yams.Node {
        guard let node = try Yams.compose(yaml: try YAMLEncoder().encode(value)) else { return Yams.Node("") }
        return node
    }

    static func text(_ node: Yams.Node, flow: Bool) -> String {
        switch node {
        case .scalar(let scalar):
            if node.tag == Tag(.float), let d = Double(scalar.string.replacingOccurrences(of: "+", with: "")) {
                return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : "\(d)"
            }
            if node.tag != Tag(.str) { return scalar.string }
            return plainReadsBack(scalar.string, flow: flow) ? scalar.string : quoted(scalar.string)
        case .sequence(let items):
            return "[" + items.map { text($0, flow: true) }.joined(separator: ", ") + "]"
        case .mapping(let pairs):
            return "{" + pairs.map { "\(text($0.key, flow: true)): \(text($0.value, flow: true))" }.joined(separator: ", ") + "}"
        }
    }

    static func blockLines(_ node: Yams.Node) -> [String] {
        switch node {
        case .mapping(let pairs):
            return pairs.flatMap { pair -> [String] in
                let key = text(pair.key, flow: false)
                if isNested(pair.value) { return ["\(key):"] + blockLines(pair.value).map { "  " + $0 } }
                return ["\(key): \(text(pair.value, flow: false))"]
            }
        case .sequence(let items):
            return items.flatMap { item -> [String] in
                guard isNested(item) else { return ["- " + text(item, flow: false)] }
                let lines = blockLines(item)
                return ["- " + lines[0]] + lines.dropFirst().map { "  " + $0 }
            }
        default:
            return [text(node, flow: false)]
        }
    }

    static func isNested(_ node: Yams.Node) -> Bool {
        switch node {
        case .mapping(let m): return !m.isEmpty
        case .sequence(let s): return !s.isEmpty
        default: return false
        }
    }

    /// A string is written plain when YAML reads it back as that same string.
    static func plainReadsBack(_ s: String, flow: Bool) -> Bool {
        guard !s.isEmpty, !s.contains("#"), !(flow && s.contains(where: { ",[]{}".contains($0) })) else { return false }
        // A string YAML cannot parse on its own (e.g. "a: b: c") is simply written quoted.
        do { return try Yams.load(yaml: s) as? String == s } catch { return false }
    }

    static func quoted(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
