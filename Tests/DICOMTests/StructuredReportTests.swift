import DICOM
import Foundation
import TestSupport
import XCTest

/// Shared helpers for the writer and sender tests: the real series, fresh UIDs, child processes.
enum Fixture {
    static let python = TestData.repository.appendingPathComponent(".venv/bin/python").path

    static func seriesFiles() throws -> [String] { try TestData.files(of: TestData.sagittalSeries) }

    static func tempDir() throws -> String { try TestData.temporaryDirectory("dicom-writers") }

    /// A fresh 2.25 UID for a test object (64 random bits are unique enough within one test run;
    /// the node's own UIDs come from `UIDGenerator`).
    static func uid() -> String { "2.25.\(UInt64.random(in: 1...UInt64.max))" }

    struct Output { let status: Int32; let stdout: String; let stderr: String }

    @discardableResult
    static func run(_ tool: String, _ args: [String], environment: [String: String]? = nil) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        if let environment { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read both pipes before waiting so that a chatty tool cannot block on a full pipe; the
        // group's wait orders the background read before the use of its result.
        final class Received: @unchecked Sendable { var data = Data() }
        let errData = Received()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errData.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData.data, as: UTF8.self))
    }

    /// dciodvfy's error lines (it writes its findings to stderr).
    static func dciodvfyErrors(_ path: String) throws -> (errors: [String], all: String) {
        let o = try run("/usr/bin/dciodvfy", [path])
        let all = o.stdout + o.stderr
        let errors = all.split(separator: "\n").map(String.init).filter { $0.hasPrefix("Error") }
        return (errors, all)
    }
}

final class StructuredReportTests: XCTestCase {
    var files: [String] = []

    override func setUpWithError() throws {
        files = try Fixture.seriesFiles()
    }

    struct Written {
        let path: String
        let report: MeasurementReport
    }

    func makeReport(in dir: String, documentClass: SRDocumentClass = .comprehensive3D,
                    predecessor: ReferencedInstance? = nil, withPoints: Bool = true) throws -> Written {
        let evidence = try files.map { try ReferencedInstance(file: $0) }
        let middleIndex = files.count / 2
        let study = evidence[0].studyInstanceUID
        let levels = ["L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"].enumerated().map { i, name in
            LevelMeasurement(trackingIdentifier: name, trackingUID: Fixture.uid(),
                             findingSite: Codes.disc(forLevel: name)!,
                             peakConfidence: 0.9 - Double(i) * 0.0123456789,
                             entropy: 3.25 + Double(i) * 0.987654321012,
                             spatialEntropy: 0.5 + Double(i) * 1.0e-7,
                             point: withPoints && i != 3 ? (row: 40.0 + Double(i) * 30.25, column: 110.5 - Double(i)) : nil)
        }
        let report = MeasurementReport(
            sourceInstancePath: files[0], evidence: evidence, middleSlice: evidence[middleIndex],
            middleSlicePath: files[middleIndex],
            instance: CreatedInstance(studyInstanceUID: study, seriesInstanceUID: Fixture.uid(), sopInstanceUID: Fixture.uid(),
                                      seriesNumber: 9901, seriesDescription: "LSTV analysis (SR)", modelName: "lstv-node",
                                      softwareVersion: "0.5.0"),
            deviceObserverUID: Fixture.uid(), deviceObserverName: "LSTVNODE", algorithmName: "lstv-localizer", algorithmVersion: "1.0 sha256:abc123",
            algorithmParameters: ["quiet_period_s=10", "risk_thresholds=2.5,3.5"], levels: levels,
            lstvSuspicion: "medium", ladderConsistency: "inconsistent",
            ladderFindings: ["L4/L5 and L5/S1 are 3.1 px apart (< 7.0 px): two levels on one disc",
                             "unstable count: L5/S1 moves 0.95x the disc spacing when the slice is zoomed 0.8x"],
            predecessor: predecessor,
            documentClass: documentClass)
        let path = dir + "/sr-\(documentClass.rawValue).dcm"
        try StructuredReportWriter.write(report, to: path)
        return Written(path: path, report: report)
    }

    func assertValid(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let (errors, all) = try Fixture.dciodvfyErrors(path)
        XCTAssertEqual(errors, [], "dciodvfy:\n\(all)", file: file, line: line)
    }

    func testComprehensive3DReportValidatesAndReadsBack() throws {
        let dir = try Fixture.tempDir()
        let w = try makeReport(in: dir)
        try assertValid(w.path)

        let ds = try DicomDataset(path: w.path)
        let source = try DicomDataset(path: files[0])
        XCTAssertEqual(ds.text(.sopClassUID), SOPClass.comprehensive3DSRStorage)
        XCTAssertEqual(ds.text(.transferSyntaxUID), TransferSyntax.explicitVRLittleEndian)
        XCTAssertEqual(ds.text(.studyInstanceUID), source.text(.studyInstanceUID))
        XCTAssertEqual(ds.text(.patientID), source.text(.patientID))
        XCTAssertEqual(ds.text(.patientName), source.text(.patientName))
        XCTAssertEqual(ds.text(.accessionNumber), source.text(.accessionNumber))
        XCTAssertEqual(ds.text(.seriesInstanceUID), w.report.instance.seriesInstanceUID)
        XCTAssertNotEqual(ds.text(.seriesInstanceUID), source.text(.seriesInstanceUID))
        XCTAssertEqual(ds.text(.sopInstanceUID), w.report.instance.sopInstanceUID)
        XCTAssertEqual(ds.int(.seriesNumber), 9901)
        XCTAssertEqual(ds.text(.modality), "SR")
        XCTAssertEqual(ds.text(Tag(0x0040, 0xA493)), "UNVERIFIED")  // VerificationFlag
        XCTAssertEqual(ds.text(Tag(0x0040, 0xA491)), "COMPLETE")    // CompletionFlag
        // Sequences (DicomDataset reads values, not items) through pydicom.
        let sequences = try python("""
        import sys, pydicom
        ds = pydicom.dcmread(sys.argv[1])
        print(len(ds.CodingSchemeIdentificationSequence), "PredecessorDocumentsSequence" in ds,
              ds.ContributingEquipmentSequence[0].PurposeOfReferenceCodeSequence[0].CodeValue,
              ds.ContributingEquipmentSequence[0].Manufacturer)
        """, [w.path])
        XCTAssertEqual(sequences.trimmingCharacters(in: .whitespacesAndNewlines),
                       "\(Codes.codingSchemes.count) False \(Codes.processingEquipment.value) lstv-node")

        try checkWithPydicomAndHighdicom(w, dir: dir)
    }

    func testEnhancedSRVariantValidates() throws {
        let dir = try Fixture.tempDir()
        let w = try makeReport(in: dir, documentClass: .enhanced)
        try assertValid(w.path)
        XCTAssertEqual(try DicomDataset(path: w.path).text(.sopClassUID), SOPClass.enhancedSRStorage)
        try checkWithPydicomAndHighdicom(w, dir: dir)
    }

    func testRevisedReportReferencesItsPredecessor() throws {
        let dir = try Fixture.tempDir()
        let first = try makeReport(in: dir)
        let firstRef = try ReferencedInstance(file: first.path)
        let revisedDir = try Fixture.tempDir()
        let revised = try makeReport(in: revisedDir, predecessor: firstRef, withPoints: false)
        try assertValid(revised.path)
        let script = """
        import sys, pydicom
        ds = pydicom.dcmread(sys.argv[1])
        study = ds.PredecessorDocumentsSequence[0]
        series = study.ReferencedSeriesSequence[0]
        sop = series.ReferencedSOPSequence[0]
        print(study.StudyInstanceUID, series.SeriesInstanceUID, sop.ReferencedSOPClassUID, sop.ReferencedSOPInstanceUID)
        """
        let out = try python(script, [revised.path])
        XCTAssertEqual(out.trimmingCharacters(in: .whitespacesAndNewlines),
                       [firstRef.studyInstanceUID, firstRef.seriesInstanceUID, firstRef.sopClassUID,
                        firstRef.sopInstanceUID].joined(separator: " "))
    }

    func testInvalidInputIsRejected() throws {
        let dir = try Fixture.tempDir()
        var w = try makeReport(in: dir).report
        w.lstvSuspicion = "very high"
        XCTAssertThrowsError(try StructuredReportWriter.write(w, to: dir + "/bad.dcm"))
        w.lstvSuspicion = "low"
        w.instance.sopInstanceUID = "1.2.3/../4"
        XCTAssertThrowsError(try StructuredReportWriter.write(w, to: dir + "/bad.dcm"))
        w.instance.sopInstanceUID = Fixture.uid()
        w.instance.softwareVersion = nil
        XCTAssertThrowsError(try StructuredReportWriter.write(w, to: dir + "/bad.dcm"))
        w.instance.softwareVersion = "0.5.0"
        w.levels[0].entropy = .nan
        XCTAssertThrowsError(try StructuredReportWriter.write(w, to: dir + "/bad.dcm"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/bad.dcm"))
    }

    func testImageCoordinatesArePixelCentres() {
        // PS3.3 C.18.6.1.1: the top left corner of the top left pixel is 0\0.
        let c = LevelMeasurement.imageCoordinates(row: 0, column: 0)
        XCTAssertEqual(c.column, 0.5)
        XCTAssertEqual(c.row, 0.5)
        let d = LevelMeasurement.imageCoordinates(row: 10.25, column: 3)
        XCTAssertEqual(d.column, 3.5)
        XCTAssertEqual(d.row, 10.75)
    }

    // MARK: highdicom

    func python(_ script: String, _ args: [String]) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: Fixture.python) else {
            XCTFail("\(Fixture.python) missing: the suite's bootstrap creates .venv with pydicom and highdicom")
            throw DICOMError("no .venv")
        }
        let o = try Fixture.run(Fixture.python, ["-c", script] + args)
        XCTAssertEqual(o.status, 0, "python failed:\n\(o.stderr)")
        return o.stdout
    }

    /// highdicom reads the report, finds one TID 1501 group per level with the values written, the
    /// point, the algorithm and the qualitative evaluations.
    func checkWithPydicomAndHighdicom(_ w: Written, dir: String) throws {
        let script = """
        import sys, json
        import highdicom as hd
        from pydicom.sr.codedict import codes
        def algorithm(g):
            names = g[0].ContentSequence.find(codes.DCM.AlgorithmName)
            if len(names) != 1: return None
            versions = [c.TextValue for c in names[0].ContentSequence
                        if c.ConceptNameCodeSequence[0].CodeValue == codes.DCM.AlgorithmVersion.value]
            return [names[0].value] + versions
        sr = hd.sr.srread(sys.argv[1])
        groups = sr.content.get_image_measurement_groups()
        out = {"class": type(sr).__name__, "groups": [], "evaluations": []}
        for g in groups:
            entry = {"tracking_id": g.tracking_identifier, "tracking_uid": str(g.tracking_uid),
                     "finding_sites": [[s.value.value, s.value.scheme_designator] for s in g.finding_sites],
                     "algorithm": algorithm(g),
                     "measurements": []}
            for m in g.get_measurements():
                scoords = []
                for child in getattr(m[0], "ContentSequence", []):
                    if child.ValueType == "SCOORD":
                        ref = child.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID
                        scoords.append([child.GraphicType, [float(v) for v in child.GraphicData], ref])
                entry["measurements"].append({"name": m.name.value, "scheme": m.name.scheme_designator,
                                              "value": float(m.value), "unit": m.unit.value, "scoords": scoords})
            out["groups"].append(entry)
        import pydicom
        ds = pydicom.dcmread(sys.argv[1])
        for item in ds.ContentSequence:
            if item.ConceptNameCodeSequence[0].CodeValue == "C0034375":  # Qualitative Evaluations
                for e in item.ContentSequence:
                    value = e.ConceptCodeSequence[0].CodeValue if e.ValueType == "CODE" else e.TextValue
                    out["evaluations"].append([e.ConceptNameCodeSequence[0].CodeValue, value])
        schemes = [i.CodingSchemeDesignator for i in ds.CodingSchemeIdentificationSequence]
        out["schemes"] = schemes
        out["evidence"] = sum(len(s.ReferencedSOPSequence) for st in ds.CurrentRequestedProcedureEvidenceSequence
                              for s in st.ReferencedSeriesSequence)
        print(json.dumps(out))
        """
        let json = try python(script, [w.path])
        guard let data = json.split(separator: "\n").last.map({ Data($0.utf8) }),
              let out = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return XCTFail("no JSON from highdicom: \(json)")
        }
        XCTAssertEqual(out["class"] as? String,
                       w.report.documentClass == .enhanced ? "EnhancedSR" : "Comprehensive3DSR")
        XCTAssertEqual(out["evidence"] as? Int, files.count)
        XCTAssertTrue((out["schemes"] as? [String] ?? []).contains(Codes.privateScheme))
        let groups = out["groups"] as? [[String: Any]] ?? []
        XCTAssertEqual(groups.count, 5, "measurement groups: \(json)")
        for (level, g) in zip(w.report.levels, groups) {
            XCTAssertEqual(g["tracking_id"] as? String, level.trackingIdentifier)
            XCTAssertEqual(g["tracking_uid"] as? String, level.trackingUID)
            XCTAssertEqual((g["finding_sites"] as? [[String]])?.first, [level.findingSite.value, "SCT"])
            XCTAssertEqual(g["algorithm"] as? [String], [w.report.algorithmName, w.report.algorithmVersion])
            let ms = g["measurements"] as? [[String: Any]] ?? []
            XCTAssertEqual(ms.map { $0["name"] as? String }, [Codes.peakConfidence.value, Codes.entropy.value,
                                                                Codes.spatialEntropy.value])
            let values = ms.compactMap { $0["value"] as? Double }
            let expected = [level.peakConfidence, level.entropy, level.spatialEntropy]
            XCTAssertEqual(values.count, 3)
            for (v, e) in zip(values, expected) {
                XCTAssertEqual(v, e, accuracy: abs(e) * 1e-9, "\(level.trackingIdentifier)")
            }
            XCTAssertEqual(ms.map { $0["unit"] as? String }, ["1", "{nat}", "{nat}"])
            let scoords = ms.first?["scoords"] as? [[Any]] ?? []
            if let p = level.point {
                XCTAssertEqual(scoords.count, 1, "\(level.trackingIdentifier) SCOORD")
                if let s = scoords.first {
                    XCTAssertEqual(s[0] as? String, "POINT")
                    let xy = s[1] as? [Double] ?? []
                    XCTAssertEqual(xy.count, 2)
                    if xy.count == 2 {
                        XCTAssertEqual(xy[0], p.column + 0.5, accuracy: 1e-4)
                        XCTAssertEqual(xy[1], p.row + 0.5, accuracy: 1e-4)
                    }
                    XCTAssertEqual(s[2] as? String, w.report.middleSlice.sopInstanceUID)
                }
            } else {
                XCTAssertEqual(scoords.count, 0)
            }
        }
        let evaluations = out["evaluations"] as? [[String]] ?? []
        XCTAssertTrue(evaluations.contains([Codes.lstvSuspicion.value, Codes.suspicion(w.report.lstvSuspicion)!.value]),
                      "\(evaluations)")
        XCTAssertTrue(evaluations.contains([Codes.levelLadderConsistency.value, Codes.ladder(w.report.ladderConsistency)!.value]),
                      "\(evaluations)")
        // Why the ladder is inconsistent: one TEXT evaluation per reason, in order.
        XCTAssertEqual(evaluations.filter { $0.first == Codes.levelLadderFinding.value }.map { $0[1] }, w.report.ladderFindings)
        XCTAssertEqual(w.report.ladderFindings.count, 2)
    }
}
