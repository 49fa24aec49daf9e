/// The node's storage conformance as a Markdown table, from the very lists the listener negotiates
/// with (`SOPClass.acceptedStorage`, `TransferSyntax.accepted`): `lstv-node conformance` prints it
/// and the README's "Accepted SOP classes and transfer syntaxes" section is this text (a test
/// compares them byte for byte).
public enum Conformance {
    /// PS3.6 names of the UIDs the node accepts (every accepted UID has one: `markdown` fails loudly
    /// otherwise).
    static let names: [String: String] = [
        SOPClass.mrImageStorage: "MR Image Storage",
        SOPClass.enhancedMRImageStorage: "Enhanced MR Image Storage",
        SOPClass.legacyConvertedEnhancedMRImageStorage: "Legacy Converted Enhanced MR Image Storage",
        SOPClass.ctImageStorage: "CT Image Storage",
        SOPClass.enhancedCTImageStorage: "Enhanced CT Image Storage",
        SOPClass.secondaryCaptureImageStorage: "Secondary Capture Image Storage",
        SOPClass.basicTextSRStorage: "Basic Text SR Storage",
        SOPClass.enhancedSRStorage: "Enhanced SR Storage",
        SOPClass.comprehensiveSRStorage: "Comprehensive SR Storage",
        SOPClass.comprehensive3DSRStorage: "Comprehensive 3D SR Storage",
        SOPClass.keyObjectSelectionDocumentStorage: "Key Object Selection Document Storage",
        SOPClass.verification: "Verification",
        TransferSyntax.implicitVRLittleEndian: "Implicit VR Little Endian",
        TransferSyntax.explicitVRLittleEndian: "Explicit VR Little Endian",
        TransferSyntax.deflatedExplicitVRLittleEndian: "Deflated Explicit VR Little Endian",
        TransferSyntax.explicitVRBigEndian: "Explicit VR Big Endian",
        TransferSyntax.jpegBaseline8Bit: "JPEG Baseline (Process 1)",
        TransferSyntax.jpegExtended12Bit: "JPEG Extended (Process 2 & 4)",
        TransferSyntax.jpegLossless: "JPEG Lossless, Non-Hierarchical (Process 14)",
        TransferSyntax.jpegLosslessSV1: "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])",
        TransferSyntax.jpegLSLossless: "JPEG-LS Lossless Image Compression",
        TransferSyntax.jpegLSNearLossless: "JPEG-LS Lossy (Near-Lossless) Image Compression",
        TransferSyntax.rleLossless: "RLE Lossless",
        TransferSyntax.jpeg2000Lossless: "JPEG 2000 Image Compression (Lossless Only)",
        TransferSyntax.jpeg2000: "JPEG 2000 Image Compression",
    ]

    /// The SOP classes (Verification, then the storage classes) and transfer syntaxes accepted, one
    /// table each, in the order the listener prefers them.
    public static func markdown() -> String {
        func rows(_ uids: [String]) -> String {
            uids.map { uid in
                guard let name = names[uid] else { preconditionFailure("Conformance.names lacks \(uid)") }
                return "| \(name) | `\(uid)` |\n"
            }.joined()
        }
        return "| SOP class | UID |\n|---|---|\n" + rows([SOPClass.verification] + SOPClass.acceptedStorage)
            + "\n| transfer syntax (storage) | UID |\n|---|---|\n" + rows(TransferSyntax.accepted)
    }
}
