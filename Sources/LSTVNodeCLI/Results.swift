import ArgumentParser
import Analysis
import Foundation
import Node

struct Flags: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "LSTV flags for worklists (the lstv_flags view).",
                                                    subcommands: [List.self, Export.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The latest analysis of each series, newest first.")
        @OptionGroup var options: ConfigOptions
        @OptionGroup var filter: FlagsFilter
        @Flag(help: "JSON output.") var json = false

        func run() throws {
            print(try NodeAdmin(configuration: try options.load()).flags(since: try filter.sinceDate(), risk: filter.risk?.rawValue, json: json))
        }
    }
}

/// Which flags `flags list` and `flags export` show.
struct FlagsFilter: ParsableArguments {
    @Option(help: "Only analyses finished at or after this time (ISO 8601, e.g. 2026-11-24T00:00:00Z).") var since: String?
    @Option(help: "Only flags of this risk.") var risk: Risk?

    func sinceDate() throws -> Date? { try parseSince(since) }
}

extension Risk: ExpressibleByArgument {}

struct Outbox: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Deliveries of reports and key images to DICOM destinations.",
                                                    subcommands: [List.self, Retry.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every delivery with its state (pending, sending, sent, dead).")
        @OptionGroup var options: ConfigOptions
        @Flag(help: "JSON output.") var json = false
        func run() throws { print(try NodeAdmin(configuration: try options.load()).outbox(json: json)) }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a dead (or waiting) delivery due now with a fresh attempt budget.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Outbox ID (from `outbox list`).") var id: Int64
        func run() throws {
            guard try NodeAdmin(configuration: try options.load()).retryOutbox(id: id) else {
                throw ValidationError("no dead or pending delivery with ID \(id)")
            }
            print("delivery \(id) will be retried")
        }
    }
}
