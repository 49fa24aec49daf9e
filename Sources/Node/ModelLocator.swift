import Foundation

/// Where the localizer model comes from: `--model`, then the configuration's `model`, then
/// `LSTV_MODEL`, then the bundled `models/lstv-localizer.safetensors` found beside the working
/// directory, the executable's checkout (`.build/<config>/lstv-node` → repo root) or an install
/// prefix (`bin/lstv-node` → `share/lstv-node/models`).
public enum ModelLocator {
    public static let bundledName = "lstv-localizer.safetensors"

    public static func resolve(explicit: String?, configuration: NodeConfiguration) throws -> URL {
        if let p = explicit ?? configuration.modelPath ?? ProcessInfo.processInfo.environment["LSTV_MODEL"] {
            guard FileManager.default.fileExists(atPath: p) else { throw ConfigurationError("model file not found: \(p)") }
            return URL(fileURLWithPath: p)
        }
        for candidate in candidates() where FileManager.default.fileExists(atPath: candidate.path) {
            return candidate
        }
        throw ConfigurationError("no localizer model: the bundled \(bundledName) was not found in "
                                 + candidates().map(\.path).joined(separator: ", ") + "; set `model` or pass --model")
    }

    static func candidates() -> [URL] {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        return [
            cwd.appendingPathComponent("models/\(bundledName)"),
            exe.appendingPathComponent("../../../models/\(bundledName)").standardizedFileURL,
            exe.appendingPathComponent("../share/lstv-node/models/\(bundledName)").standardizedFileURL,
        ]
    }
}
