import ArgumentParser
import Engine
import Foundation
import Node
import Records

@main
struct LSTVNode: ParsableCommand {
    /// OpenBLAS picks its kernels when it loads: the engine may re-execute the process once with
    /// OPENBLAS_CORETYPE set (AVX-512 machines), before anything else happens.
    static func main() {
        Engine.prepareEnvironment()
        main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "lstv-node",
        abstract: "A DICOM node that flags lumbosacral transitional vertebrae on sagittal T2 lumbar MRI.",
        version: NodeVersion.software,
        subcommands: [Serve.self, Analyze.self, Calibrate.self, Report.self, Evaluate.self, Token.self, DB.self, CheckConfig.self,
                      SeriesCommand.self, Flags.self, Outbox.self, ConformanceCommand.self])
}

/// Options shared by every command that reads the configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "YAML configuration file (keys: see config/lstv-node.yaml).")
    var config: String?

    @Option(name: .long, help: "Directory for the spool and the private PostgreSQL cluster.")
    var dataDir: String?

    @Option(name: .long, help: "libpq URI, e.g. postgresql://user@/db?host=/socket/dir (password from PGPASSWORD).")
    var databaseURL: String?

    /// The file given by `--config` or `LSTV_NODE_CONFIG`; none: the embedded defaults.
    var configurationFile: String? { config ?? ProcessInfo.processInfo.environment["LSTV_NODE_CONFIG"] }

    func load() throws -> NodeConfiguration {
        var c = try NodeConfiguration.load(path: configurationFile)
        if let v = dataDir { c.dataDirectory = v }
        if let v = databaseURL { c.databaseURL = v }
        return c
    }
}

/// The value of a `--since` option: nil when absent, a usage error when not ISO 8601.
func parseSince(_ since: String?) throws -> Date? {
    guard let since else { return nil }
    guard let date = ISO8601DateFormatter().date(from: since) else { throw ValidationError("--since must be ISO 8601: \(since)") }
    return date
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the node: DICOM listener, indexing, series assembly, routing.")

    @OptionGroup var options: ConfigOptions
    @Option(help: "TCP port to listen on.") var port: Int?
    @Option(help: "Called AE title the node answers to.") var aeTitle: String?
    @Option(help: "Seconds without a new instance after which a series is complete.") var quietSeconds: Double?
    @Option(help: "Port of the web face (health, metrics, API); 0 turns it off.") var httpPort: Int?
    @Option(name: .customLong("destination"), help: "Send results to AE@HOST:PORT (repeatable; replaces the file's destinations).")
    var destinations: [String] = []

    func run() throws {
        var c = try options.load()
        if let v = port { c.port = v }
        if let v = aeTitle { c.aeTitle = v }
        if let v = quietSeconds { c.quietSeconds = v }
        if let v = httpPort { c.http.port = v }
        if !destinations.isEmpty { c.results.destinations = try destinations.map(DicomPeer.init(parsing:)) }
        LogfmtHandler.bootstrap(level: c.logLevel)
        do {
            let code = try NodeService(configuration: c, configurationFile: options.configurationFile).run()
            throw ExitCode(code)
        } catch let e as ExitCode {
            throw e
        } catch {
            FileHandle.standardError.write("lstv-node: \(error)\n".data(using: .utf8)!)
            throw ExitCode.failure
        }
    }
}

struct DB: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "db", abstract: "Database maintenance.",
                                                    subcommands: [Migrate.self])

    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply pending schema migrations.")
        @OptionGroup var options: ConfigOptions

        func run() throws {
            let c = try options.load()
            let applied = try NodeAdmin(configuration: c).migrate()
            print(applied.isEmpty ? "database is up to date" : "applied migrations: \(applied.map(String.init).joined(separator: ", "))")
        }
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check-config",
                                                    abstract: "Validate the configuration and print the effective values.")
    @OptionGroup var options: ConfigOptions
    @Flag(help: "Print the embedded defaults as the documented file (config/lstv-node.yaml is this output).")
    var template = false

    func run() throws {
        if template {
            print(try NodeConfiguration().yamlFile(template: true), terminator: "")
            return
        }
        do {
            let c = try options.load()
            try c.validate()
            print(try NodeAdmin.describe(c), terminator: "")
        } catch {
            FileHandle.standardError.write("lstv-node: configuration invalid: \(error)\n".data(using: .utf8)!)
            throw ExitCode(2)
        }
    }
}

struct SeriesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "series", abstract: "Series known to the node.",
                                                    subcommands: [List.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One entry per series: UIDs, counts, state, route and reason.")
        @OptionGroup var options: ConfigOptions
        @Flag(help: "JSON output.") var json = false

        func run() throws {
            let admin = NodeAdmin(configuration: try options.load())
            print(json ? try admin.seriesJSON() : try admin.seriesTable())
        }
    }
}
