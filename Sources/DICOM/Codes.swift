/// Coded concepts the node writes into its structured reports, by name. Standard codes (DCM, SCT,
/// LN, UCUM) where the standard has one; the rest from the node's private coding scheme `99LSTV`,
/// declared in every report's CodingSchemeIdentificationSequence. See docs/SR.md.
public struct SRCode: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var value: String
    public var scheme: String
    public var meaning: String
    public var schemeVersion: String?

    public init(_ value: String, _ scheme: String, _ meaning: String, schemeVersion: String? = nil) {
        self.value = value
        self.scheme = scheme
        self.meaning = meaning
        self.schemeVersion = schemeVersion
    }

    public init(value: String, scheme: String, meaning: String, schemeVersion: String? = nil) {
        self.init(value, scheme, meaning, schemeVersion: schemeVersion)
    }

    public var description: String { "(\(value), \(scheme), \"\(meaning)\")" }
}

/// A coding scheme as declared in CodingSchemeIdentificationSequence (PS3.3 C.12.1.1.2).
public struct CodingScheme: Sendable, Equatable {
    public var designator: String
    public var name: String?
    public var uid: String?
    public var responsibleOrganization: String?
    public var version: String?

    public init(designator: String, name: String? = nil, uid: String? = nil, responsibleOrganization: String? = nil,
                version: String? = nil) {
        self.designator = designator
        self.name = name
        self.uid = uid
        self.responsibleOrganization = responsibleOrganization
        self.version = version
    }
}

public enum Codes {
    /// The node's private coding scheme designator ("99" prefix: private, PS3.3 8.2.1).
    public static let privateScheme = "99LSTV"

    /// Every scheme a report uses, declared in CodingSchemeIdentificationSequence.
    public static let codingSchemes: [CodingScheme] = [
        CodingScheme(designator: "DCM", name: "DICOM Controlled Terminology", uid: "1.2.840.10008.2.16.4",
                     responsibleOrganization: "NEMA"),
        CodingScheme(designator: "SCT", name: "SNOMED CT", uid: "2.16.840.1.113883.6.96",
                     responsibleOrganization: "SNOMED International"),
        CodingScheme(designator: "LN", name: "LOINC", uid: "2.16.840.1.113883.6.1",
                     responsibleOrganization: "Regenstrief Institute for Health Care"),
        CodingScheme(designator: "UCUM", name: "Unified Code for Units of Measure", uid: "2.16.840.1.113883.6.8",
                     responsibleOrganization: "Regenstrief Institute for Health Care"),
        CodingScheme(designator: privateScheme, name: "lstv-node private codes",
                     responsibleOrganization: "lstv-node", version: "1"),
    ]

    // MARK: document and context

    public static let imagingMeasurementReport = SRCode("126000", "DCM", "Imaging Measurement Report")
    public static let english = SRCode("en", "RFC5646", "English")
    public static let unitedStates = SRCode("US", "ISO3166_1", "United States")
    /// Procedure reported (CID 100 is extensible): LOINC "MR Lumbar spine".
    public static let mrLumbarSpine = SRCode("24968-0", "LN", "MR Lumbar spine")
    public static let sourceOfMeasurement = SRCode("121112", "DCM", "Source of Measurement")
    /// ContributingEquipmentSequence purpose of reference for an application that processed the
    /// referenced images (CID 7005).
    public static let processingEquipment = SRCode("109102", "DCM", "Processing Equipment")
    /// Key Object Selection title (CID 7010 Key Object Selection Document Title).
    public static let ofInterest = SRCode("113000", "DCM", "Of Interest")
    /// The TEXT item that says, in words, why the objects were selected (TID 2010).
    public static let keyObjectDescription = SRCode("113012", "DCM", "Key Object Description")

    // MARK: finding sites (CID 7604 Intervertebral Disc, SNOMED CT)

    public static let l1l2Disc = SRCode("80064006", "SCT", "L1/L2 disc")
    public static let l2l3Disc = SRCode("67459009", "SCT", "L2/L3 disc")
    public static let l3l4Disc = SRCode("62551000", "SCT", "L3/L4 disc")
    public static let l4l5Disc = SRCode("84020006", "SCT", "L4/L5 disc")
    public static let l5s1Disc = SRCode("715056000", "SCT", "L5/S1 disc")

    /// The disc for a level name as the analysis spells it ("L1/L2", "L1-L2", "l1_l2" …); nil if unknown.
    public static func disc(forLevel level: String) -> SRCode? {
        let key = level.uppercased().filter { $0.isLetter || $0.isNumber }
        switch key {
        case "L1L2": return l1l2Disc
        case "L2L3": return l2l3Disc
        case "L3L4": return l3l4Disc
        case "L4L5": return l4l5Disc
        case "L5S1": return l5s1Disc
        default: return nil
        }
    }

    // MARK: measurements (private: no standard concept for these heatmap statistics)

    public static let peakConfidence = SRCode("LSTV001", privateScheme, "Peak heatmap confidence")
    public static let entropy = SRCode("LSTV002", privateScheme, "Heatmap entropy")
    public static let spatialEntropy = SRCode("LSTV003", privateScheme, "Heatmap spatial entropy")

    /// A probability has no unit.
    public static let noUnits = SRCode("1", "UCUM", "no units")
    /// Shannon entropy with the natural logarithm; UCUM has no "nat", so an annotation (value 1).
    public static let nat = SRCode("{nat}", "UCUM", "nat")

    // MARK: qualitative evaluations

    public static let lstvSuspicion = SRCode("LSTV010", privateScheme, "LSTV suspicion")
    public static let high = SRCode("75540009", "SCT", "High")
    public static let medium = SRCode("255508009", "SCT", "Medium")
    public static let low = SRCode("62482003", "SCT", "Low")

    public static let levelLadderConsistency = SRCode("LSTV020", privateScheme, "Level ladder consistency")
    public static let consistent = SRCode("LSTV021", privateScheme, "Consistent")
    public static let inconsistent = SRCode("LSTV022", privateScheme, "Inconsistent")
    public static let incomplete = SRCode("LSTV023", privateScheme, "Incomplete")
    /// TEXT: one reason the ladder check gave (order, spacing, landmarks, stability, missing level).
    public static let levelLadderFinding = SRCode("LSTV024", privateScheme, "Level ladder finding")

    /// TEXT: one reason the LSTV suspicion rose (count, thoracolumbar junction, lumbosacral junction).
    public static let lstvSuspicionFinding = SRCode("LSTV011", privateScheme, "LSTV suspicion finding")

    /// TEXT: one instance of the series the analysis left out, and why (no pixel data, another size …).
    public static let excludedInstanceFinding = SRCode("LSTV012", privateScheme, "Instance excluded from analysis")

    // MARK: the series-level assessment group (NUMs)

    public static let lstvSuspicionScore = SRCode("LSTV030", privateScheme, "LSTV suspicion score")
    /// Mobile lumbar vertebrae between the thoracolumbar junction and the sacrum.
    public static let lumbarVertebraCount = SRCode("LSTV031", privateScheme, "Number of lumbar vertebrae")
    public static let lumbarCountProbability = SRCode("LSTV032", privateScheme, "Lumbar count probability")
    /// L5 body to sacrum against L4 body to L5 body.
    public static let lumbosacralSpanRatio = SRCode("LSTV033", privateScheme, "Lumbosacral span ratio")
    /// Dimensionless: standard deviations of normal anatomy (UCUM annotation, value 1).
    public static let normalDeviations = SRCode("{SD}", "UCUM", "standard deviations")
    public static let vertebrae = SRCode("{vertebrae}", "UCUM", "vertebrae")

    /// "high" | "medium" | "low" → code; nil for anything else.
    public static func suspicion(_ value: String) -> SRCode? {
        switch value.lowercased() {
        case "high": return high
        case "medium": return medium
        case "low": return low
        default: return nil
        }
    }

    /// "consistent" | "inconsistent" | "incomplete" → code; nil for anything else.
    public static func ladder(_ value: String) -> SRCode? {
        switch value.lowercased() {
        case "consistent": return consistent
        case "inconsistent": return inconsistent
        case "incomplete": return incomplete
        default: return nil
        }
    }
}
