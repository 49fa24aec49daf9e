import ArgumentParser
import Cohort
import Node

/// Where `calibrate` and `report` take their cohort from: analyze output, or the node's database.
struct CohortInput: ParsableArguments {
    @Option(help: "analyze output (--format json or csv).") var results: String?
    @Flag(help: "The node's stored flags (the lstv_flags view) instead of --results.") var fromDB = false
    @Option(help: "With --from-db: only analyses finished at or after this time (ISO 8601).") var since: String?

    func validate() throws {
        guard (results == nil) != !fromDB else { throw ValidationError("give exactly one of --results FILE and --from-db") }
        if since != nil, !fromDB { throw ValidationError("--since applies to --from-db only") }
    }

    /// The cases, how many failed series a results file held (left out), and where they came from
    /// in words (the database URL without its password).
    func load(_ configuration: NodeConfiguration) throws -> (cases: [CohortCase], failed: Int, source: String) {
        if let results {
            let loaded = try CohortSource.load(file: results)
            return (loaded.cases, loaded.failed, results)
        }
        return (try CohortSource.load(databaseURL: configuration.effectiveDatabaseURL, since: try parseSince(since)), 0,
                "database \(configuration.redactedDatabaseURL)" + (since.map { " since \($0)" } ?? ""))
    }
}
