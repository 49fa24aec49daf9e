/// A DICOM attribute tag (group, element), named as in PS3.6.
public struct Tag: Hashable, Sendable, CustomStringConvertible {
    public let group: UInt16
    public let element: UInt16
    public init(_ group: UInt16, _ element: UInt16) { self.group = group; self.element = element }
    public var description: String {
        "(" + String(group, radix: 16).leftPadded(4) + "," + String(element, radix: 16).leftPadded(4) + ")"
    }
}

extension Tag {
    public static let transferSyntaxUID = Tag(0x0002, 0x0010)
    public static let imageType = Tag(0x0008, 0x0008)
    public static let sopClassUID = Tag(0x0008, 0x0016)
    public static let sopInstanceUID = Tag(0x0008, 0x0018)
    public static let studyDate = Tag(0x0008, 0x0020)
    public static let accessionNumber = Tag(0x0008, 0x0050)
    public static let modality = Tag(0x0008, 0x0060)
    public static let manufacturer = Tag(0x0008, 0x0070)
    public static let seriesDescription = Tag(0x0008, 0x103E)
    public static let patientName = Tag(0x0010, 0x0010)
    public static let patientID = Tag(0x0010, 0x0020)
    public static let sliceThickness = Tag(0x0018, 0x0050)
    public static let repetitionTime = Tag(0x0018, 0x0080)
    public static let echoTime = Tag(0x0018, 0x0081)
    public static let protocolName = Tag(0x0018, 0x1030)
    public static let studyInstanceUID = Tag(0x0020, 0x000D)
    public static let seriesInstanceUID = Tag(0x0020, 0x000E)
    public static let seriesNumber = Tag(0x0020, 0x0011)
    public static let instanceNumber = Tag(0x0020, 0x0013)
    public static let imagePositionPatient = Tag(0x0020, 0x0032)
    public static let imageOrientationPatient = Tag(0x0020, 0x0037)
    public static let rows = Tag(0x0028, 0x0010)
    public static let columns = Tag(0x0028, 0x0011)
    public static let pixelSpacing = Tag(0x0028, 0x0030)
    public static let rescaleIntercept = Tag(0x0028, 0x1052)
    public static let rescaleSlope = Tag(0x0028, 0x1053)
    // Enhanced multi-frame images: the functional group sequences and the macros the node reads.
    public static let sharedFunctionalGroupsSequence = Tag(0x5200, 0x9229)
    public static let perFrameFunctionalGroupsSequence = Tag(0x5200, 0x9230)
    public static let mrTimingAndRelatedParametersSequence = Tag(0x0018, 0x9112)
    public static let mrEchoSequence = Tag(0x0018, 0x9114)
    public static let numberOfFrames = Tag(0x0028, 0x0008)
    public static let effectiveEchoTime = Tag(0x0018, 0x9082)
    public static let frameContentSequence = Tag(0x0020, 0x9111)
    public static let planePositionSequence = Tag(0x0020, 0x9113)
    public static let planeOrientationSequence = Tag(0x0020, 0x9116)
    public static let stackID = Tag(0x0020, 0x9056)
    public static let inStackPositionNumber = Tag(0x0020, 0x9057)
    public static let pixelMeasuresSequence = Tag(0x0028, 0x9110)
    public static let pixelValueTransformationSequence = Tag(0x0028, 0x9145)
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
