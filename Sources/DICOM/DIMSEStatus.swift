/// DIMSE status codes (PS3.7 Annex C, PS3.4 B.2.3) by their standard names.
public struct DIMSEStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let success = DIMSEStatus(rawValue: 0x0000)
    /// Warning: coercion of data elements (C-STORE, B000).
    public static let coercionOfDataElements = DIMSEStatus(rawValue: 0xB000)
    /// Warning: data set does not match SOP class (B007).
    public static let dataSetDoesNotMatchSOPClassWarning = DIMSEStatus(rawValue: 0xB007)
    /// Warning: elements discarded (B006).
    public static let elementsDiscarded = DIMSEStatus(rawValue: 0xB006)
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

    public var isSuccess: Bool { rawValue == 0 }
    /// Warnings count as stored (PS3.4 B.2.3).
    public var isWarning: Bool { rawValue == 0x0001 || (rawValue & 0xF000) == 0xB000 }
    public var description: String { "0x" + String(rawValue, radix: 16, uppercase: true).leftPadded(4) }
}
