import Analysis
import Engine
import Foundation

/// Where the localizer model comes from: `--model`, then the configuration's `model`, then
/// `LSTV_MODEL`, then the bundled `models/lstv-localizer.safetensors` found beside the working
/// directory, the executable's checkout (`.build/<config>/lstv-node` → repo root) or an install
/// prefix (`bin/lstv-node` → `share/lstv-node/models`).
public enum ModelLocator {
    public static let bundledName = "lstv-localizer.safetensors"
    /// The bundled thoracolumbar locator (the count's second anchor), found the same way.
    public static let bundledLocatorName = "lstv-thoracolumbar.safetensors"

    /// The thoracolumbar locator's file under `setting`; nil when it is off.
    public static func resolveLocator(_ setting: LocatorSetting) throws -> URL? {
        switch setting {
        case .off: return nil
        case let .file(p):
            guard FileManager.default.fileExists(atPath: p) else { throw ConfigurationError("thoracolumbar locator file not found: \(p)") }
            return URL(fileURLWithPath: p)
        case .bundled:
            if let found = candidates(bundledLocatorName).first(where: { FileManager.default.fileExists(atPath: $0.path) }) { return found }
            throw ConfigurationError("no thoracolumbar locator: the bundled \(bundledLocatorName) was not found in "
                                     + candidates(bundledLocatorName).map(\.path).joined(separator: ", ")
                                     + "; set `thoracolumbar_locator` to a file or to `off`")
        }
    }

    /// A locator for a command's one analyzer: the command line's word if given, else the configuration's.
    public static func makeLocator(word: String?, configuration: NodeConfiguration) throws -> ThoracolumbarLocator? {
        try loadLocatorModel(word.map(LocatorSetting.init(word:)) ?? configuration.thoracolumbarLocator)
            .map { try ThoracolumbarLocator(model: $0, threads: configuration.analysisThreads.resolved(concurrent: 1)) }
    }

    /// Loads the locator model `setting` names (nil when off), failing with the file's name. The
    /// model is shared; each analyzer makes its own `ThoracolumbarLocator` (a session) from it.
    public static func loadLocatorModel(_ setting: LocatorSetting) throws -> LocalizerModel? {
        guard let url = try resolveLocator(setting) else { return nil }
        do {
            let model = try LocalizerModel(contentsOf: url)
            _ = try ThoracolumbarLocator(model: model)  // fail at load, not at the first analysis
            return model
        } catch {
            throw ConfigurationError("cannot load thoracolumbar locator \(url.path): \(error)")
        }
    }

    public static func resolve(explicit: String?, configuration: NodeConfiguration) throws -> URL {
        if let p = explicit ?? configuration.modelPath ?? ProcessInfo.processInfo.environment["LSTV_MODEL"] {
            guard FileManager.default.fileExists(atPath: p) else { throw ConfigurationError("model file not found: \(p)") }
            return URL(fileURLWithPath: p)
        }
        for candidate in candidates(bundledName) where FileManager.default.fileExists(atPath: candidate.path) {
            return candidate
        }
        throw ConfigurationError("no localizer model: the bundled \(bundledName) was not found in "
                                 + candidates(bundledName).map(\.path).joined(separator: ", ") + "; set `model` or pass --model")
    }

    static func candidates(_ bundledName: String) -> [URL] {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        return [
            cwd.appendingPathComponent("models/\(bundledName)"),
            exe.appendingPathComponent("../../../models/\(bundledName)").standardizedFileURL,
            exe.appendingPathComponent("../share/lstv-node/models/\(bundledName)").standardizedFileURL,
        ]
    }
}

/// `thoracolumbar_locator:` the bundled file, another file, or off.
public enum LocatorSetting: Equatable, Sendable, Codable {
    /// From a command-line word: `bundled`, `off`, or a file.
    public init(word: String) {
        switch word {
        case Self.bundledWord: self = .bundled
        case Self.offWord: self = .off
        default: self = .file(word)
        }
    }

    case bundled
    case off
    case file(String)

    static let bundledWord = "bundled", offWord = "off"

    public init(from decoder: Decoder) throws {
        self.init(word: try decoder.singleValueContainer().decode(String.self))
    }

    /// The word it is written as.
    public var word: String {
        switch self {
        case .bundled: return Self.bundledWord
        case .off: return Self.offWord
        case .file(let path): return path
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(word)
    }
}
