import ArgumentParser
import Foundation
import Node

extension Flags {
    /// `flags export`: what `flags list` shows, as a file for a spreadsheet or a script.
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export the stored flags as CSV or JSON, the reference's CSV columns first.",
            discussion: """
                Columns: analyze --format csv's (study_id, series_id, per level confidence, entropy and spatial \
                entropy, risk, then the node's own), then the rest of the lstv_flags view (accession, patient ID, \
                model, times, …). Values as stored; JSON numbers are numbers.
                """)

        @OptionGroup var options: ConfigOptions
        @OptionGroup var filter: FlagsFilter
        @Option(help: "csv or json.") var format: FlagsExport.Format
        @Option(help: "Write the export to this file instead of stdout.") var output: String?

        func run() throws {
            try emit(try NodeAdmin(configuration: try options.load())
                        .exportFlags(as: format, since: try filter.sinceDate(), risk: filter.risk?.rawValue), to: output)
        }
    }
}

extension FlagsExport.Format: ExpressibleByArgument {}
