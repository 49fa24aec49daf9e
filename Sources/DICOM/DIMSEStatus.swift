/// DIMSE status codes (PS3.7 Annex C, PS3.4 B.2.3) by their standard names.
public struct DIMSEStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let success = DIMSEStatus(rawValue: 0x0000)
    /// Warning: coercion of data elements (C-STORE, B000).
    public static let coercionOfDataElements = DIMSEStatus(rawValue: 0xB000)
    /// Failure: refused, SOP class not supported (0122).
    public static let sopClassNotSupported = DIMSEStatus(rawValue: 0x0122)
    /// Failure: processing failure (0110).
    public static let processingFailure = DIMSEStatus(rawValue: 0x0110)
    /// Failure: refused, out of resources (A700).
    public static let outOfResources = DIMSEStatus(rawValue: 0xA700)
    /// Failure: data set does not match SOP class (A900).
    public static let dataSetDoesNotMatchSOPClass = DIMSEStatus(rawValue: 0xA900)
    /// Failure: cannot understand (C000).
    public static let cannotUnderstand = DIMSEStatus(rawValue: 0xC000)

    /// What a status means, by the ranges of PS3.7 Annex C and PS3.4 B.2.3 (pynetdicom's status
    /// categories, with the C-STORE failure kinds named).
    public enum Category: Equatable, Sendable {
        case success
        /// 0001, Bxxx: the instance was stored (PS3.4 B.2.3).
        case warning
        case cancel
        case pending
        /// A7xx: refused, out of resources (may pass later).
        case outOfResources
        /// A9xx: the data set does not match the SOP class.
        case dataSetDoesNotMatchSOPClass
        /// Cxxx: cannot understand.
        case cannotUnderstand
        /// 0110: processing failure (may pass later).
        case processingFailure
        /// Any other 01xx failure: refused (e.g. 0122 SOP class not supported, 0117 invalid instance).
        case refused
        /// Anything else: a failure whose meaning this node does not know.
        case otherFailure
    }

    public var category: Category {
        switch rawValue {
        case 0x0000: return .success
        case 0x0001, 0xB000...0xBFFF: return .warning
        case 0xFE00: return .cancel
        case 0xFF00, 0xFF01: return .pending
        case 0xA700...0xA7FF: return .outOfResources
        case 0xA900...0xA9FF: return .dataSetDoesNotMatchSOPClass
        case 0xC000...0xCFFF: return .cannotUnderstand
        case 0x0110: return .processingFailure
        case 0x0100...0x01FF: return .refused
        default: return .otherFailure
        }
    }

    public var isSuccess: Bool { category == .success }
    /// Warnings count as stored (PS3.4 B.2.3).
    public var isWarning: Bool { category == .warning }
    /// The instance is stored: success, or a warning (PS3.4 B.2.3: stored, with coercion or the like).
    public var isStored: Bool { isSuccess || isWarning }
    public var description: String { "0x" + String(rawValue, radix: 16, uppercase: true).leftPadded(4) }
}
