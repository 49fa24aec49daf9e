import Foundation
import XCTest

/// The repository's own files and the shared study data beside it (../shared/data/lumbar, read only:
/// referenced, never copied into the repository).
public enum TestData {
    public static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let dicom = repository.appendingPathComponent("../shared/data/lumbar/dicom").standardizedFileURL
    /// The bundled localizer model, the one the node ships.
    public static let localizerModel = repository.appendingPathComponent("models/lstv-localizer.safetensors")

    /// The sagittal T2 series of one study (67 MR instances) and its axial reformat (a distractor).
    public static let sagittalSeries = "FCS-IVD-11/01_T2_TSE_SAG"
    public static let axialSeries = "FCS-IVD-11/02_T2_AX_REFORMAT"

    /// The .dcm files of `series` (relative to the shared DICOM folder), in name order. Missing data
    /// fails the test: the repository must sit beside shared/.
    public static func files(of series: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let dir = dicom.appendingPathComponent(series)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        let files = names.filter { $0.hasSuffix(".dcm") }.sorted().map { dir.appendingPathComponent($0).path }
        guard !files.isEmpty else {
            XCTFail("shared data missing at \(dir.path): the repository must sit beside shared/", file: file, line: line)
            throw CocoaError(.fileNoSuchFile)
        }
        return files
    }

    /// A new empty directory under the system's temporary directory.
    public static func temporaryDirectory(_ prefix: String) throws -> String {
        let dir = NSTemporaryDirectory() + "/\(prefix)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The sagittal series packed by highdicom (tools/make_legacy_enhanced_mr.py, run with the
    /// repository's .venv) into one Legacy Converted Enhanced MR Image at `path`; returns its SOP
    /// Instance UID.
    public static func legacyConvertedEnhancedMR(at path: String, file: StaticString = #filePath,
                                                 line: UInt = #line) throws -> String {
        let p = Process()
        p.executableURL = repository.appendingPathComponent(".venv/bin/python")
        p.arguments = [repository.appendingPathComponent("tools/make_legacy_enhanced_mr.py").path,
                       dicom.appendingPathComponent(sagittalSeries).path, path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let uid = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "make_legacy_enhanced_mr.py", file: file, line: line)
        return uid
    }
}
