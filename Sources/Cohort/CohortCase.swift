import Analysis
import Foundation
import Records

/// One analysed series as the cohort tools read it (`calibrate`, `report`, `flags export`): who it
/// is, and the figures a worklist reads.
public struct CohortCase: Sendable, Equatable {
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var accessionNumber: String?
    public var patientID: String?
    public var seriesDescription: String?
    public var flags: AnalysisFlags
    /// The thresholds its risk was classified with (absent from analyze CSV).
    public var thresholds: RiskThresholds?
    public var model: ModelIdentity?
    public var analysedAt: Date?
    /// The key image the node wrote for it (database only).
    public var keyImagePath: String?

    public init(studyInstanceUID: String, seriesInstanceUID: String, accessionNumber: String? = nil, patientID: String? = nil,
                seriesDescription: String? = nil, flags: AnalysisFlags, thresholds: RiskThresholds? = nil,
                model: ModelIdentity? = nil, analysedAt: Date? = nil, keyImagePath: String? = nil) {
        self.studyInstanceUID = studyInstanceUID; self.seriesInstanceUID = seriesInstanceUID
        self.accessionNumber = accessionNumber; self.patientID = patientID; self.seriesDescription = seriesDescription
        self.flags = flags; self.thresholds = thresholds; self.model = model; self.analysedAt = analysedAt
        self.keyImagePath = keyImagePath
    }
}

public struct CohortError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
