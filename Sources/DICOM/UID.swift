/// UIDs: validation (PS3.5 §9) and the SOP classes and transfer syntaxes the node knows by name.
public enum UID {
    /// True for a UID that may safely name a file: 1–64 characters, digits and dots, no empty
    /// component. Leading zeros in a component are tolerated (common in the field) but nothing that
    /// could be a path separator, "..", or whitespace ever passes.
    public static func isValid(_ uid: String) -> Bool {
        guard !uid.isEmpty, uid.utf8.count <= 64 else { return false }
        var previousWasDot = true
        for byte in uid.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): previousWasDot = false
            case UInt8(ascii: "."):
                if previousWasDot { return false }
                previousWasDot = true
            default: return false
            }
        }
        return !previousWasDot
    }

    /// Throws, naming the first invalid UID, unless all are valid (`what` says which object they are for).
    static func requireValid(_ uids: [String], for what: String) throws {
        if let bad = uids.first(where: { !isValid($0) }) { throw DICOMError("\(what): invalid UID \"\(bad)\"") }
    }
}

/// Storage SOP classes by their PS3.4 names.
public enum SOPClass {
    /// C-ECHO; the listener accepts it with the uncompressed syntaxes (`scp_service.cc`).
    public static let verification = "1.2.840.10008.1.1"
    public static let mrImageStorage = "1.2.840.10008.5.1.4.1.1.4"
    public static let enhancedMRImageStorage = "1.2.840.10008.5.1.4.1.1.4.1"
    public static let legacyConvertedEnhancedMRImageStorage = "1.2.840.10008.5.1.4.1.1.4.4"
    public static let ctImageStorage = "1.2.840.10008.5.1.4.1.1.2"
    public static let enhancedCTImageStorage = "1.2.840.10008.5.1.4.1.1.2.1"
    public static let secondaryCaptureImageStorage = "1.2.840.10008.5.1.4.1.1.7"
    public static let basicTextSRStorage = "1.2.840.10008.5.1.4.1.1.88.11"
    public static let enhancedSRStorage = "1.2.840.10008.5.1.4.1.1.88.22"
    public static let comprehensiveSRStorage = "1.2.840.10008.5.1.4.1.1.88.33"
    public static let comprehensive3DSRStorage = "1.2.840.10008.5.1.4.1.1.88.34"
    public static let keyObjectSelectionDocumentStorage = "1.2.840.10008.5.1.4.1.1.88.59"

    /// What the listener accepts: MR, Enhanced MR, Legacy Converted Enhanced MR, CT, Secondary
    /// Capture and SR.
    public static let acceptedStorage: [String] = [
        mrImageStorage, enhancedMRImageStorage, legacyConvertedEnhancedMRImageStorage, ctImageStorage, enhancedCTImageStorage,
        secondaryCaptureImageStorage, basicTextSRStorage, enhancedSRStorage, comprehensiveSRStorage,
        comprehensive3DSRStorage, keyObjectSelectionDocumentStorage,
    ]
}

/// Transfer syntaxes by their PS3.5 names.
public enum TransferSyntax {
    public static let implicitVRLittleEndian = "1.2.840.10008.1.2"
    public static let explicitVRLittleEndian = "1.2.840.10008.1.2.1"
    public static let deflatedExplicitVRLittleEndian = "1.2.840.10008.1.2.1.99"
    public static let explicitVRBigEndian = "1.2.840.10008.1.2.2"
    public static let jpegBaseline8Bit = "1.2.840.10008.1.2.4.50"
    public static let jpegExtended12Bit = "1.2.840.10008.1.2.4.51"
    public static let jpegLossless = "1.2.840.10008.1.2.4.57"
    public static let jpegLosslessSV1 = "1.2.840.10008.1.2.4.70"
    public static let jpegLSLossless = "1.2.840.10008.1.2.4.80"
    public static let jpegLSNearLossless = "1.2.840.10008.1.2.4.81"
    public static let rleLossless = "1.2.840.10008.1.2.5"
    public static let jpeg2000Lossless = "1.2.840.10008.1.2.4.90"
    public static let jpeg2000 = "1.2.840.10008.1.2.4.91"
    public static let htj2kLossless = "1.2.840.10008.1.2.4.201"
    public static let htj2kLosslessRPCL = "1.2.840.10008.1.2.4.202"
    public static let htj2k = "1.2.840.10008.1.2.4.203"

    /// Accepted, in order of preference: uncompressed first (nothing to decode), then the
    /// compressed syntaxes DCMTK can decode, then JPEG 2000 (decoded by OpenJPEG in the CDICOM shim).
    /// Instances are stored exactly as received. The HTJ2K syntaxes are not offered: DCMTK 3.6.7's
    /// DIMSE layer does not know them and aborts the association on the data set ("DIMSE Unsupported
    /// transfer syntax"); files in them still decode (OpenJPEG 2.5 reads HT code-blocks).
    public static let accepted: [String] = [
        explicitVRLittleEndian, implicitVRLittleEndian, explicitVRBigEndian, deflatedExplicitVRLittleEndian,
        jpegLSLossless, jpegLosslessSV1, jpegLossless, rleLossless, jpegLSNearLossless, jpegBaseline8Bit,
        jpegExtended12Bit, jpeg2000Lossless, jpeg2000,
    ]
}
