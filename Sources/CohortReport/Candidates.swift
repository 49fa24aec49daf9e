import Cohort

enum Candidates {
    /// The cases a reader should look at first: highest suspicion first, ties ordered by series UID
    /// so the table is the same on every run.
    static func top(_ cases: [CohortCase], count: Int) -> [CohortCase] {
        Array(cases.sorted {
            $0.rankedSuspicion != $1.rankedSuspicion ? $0.rankedSuspicion > $1.rankedSuspicion
                : $0.seriesInstanceUID < $1.seriesInstanceUID
        }.prefix(count))
    }
}

extension CohortCase {
    /// `lstv_suspicion` for ranking and curves: a non-finite value (an unusable map, which the risk
    /// classes `high`) ranks above every finite one.
    var rankedSuspicion: Double { flags.lstvSuspicion.isFinite ? flags.lstvSuspicion : .infinity }
}
