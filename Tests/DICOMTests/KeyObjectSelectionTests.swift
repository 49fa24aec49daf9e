import DICOM
import Foundation
import XCTest

final class KeyObjectSelectionTests: XCTestCase {
    /// A KOS over a real slice and a second instance: valid for dciodvfy, in the source's study and
    /// patient, "Of Interest", the references in order, each in the evidence, the description kept.
    func testKeyObjectsValidateAndReferenceTheSelectedInstancesInOrder() throws {
        let files = try Fixture.seriesFiles()
        let dir = try Fixture.tempDir()
        let middle = try ReferencedInstance(file: files[files.count / 2])
        let other = try ReferencedInstance(file: files[0])
        let document = KeyObjectSelection(
            sourceInstancePath: files[0],
            instance: CreatedInstance(studyInstanceUID: middle.studyInstanceUID, seriesInstanceUID: Fixture.uid(),
                                      sopInstanceUID: Fixture.uid(), seriesNumber: 9903, seriesDescription: "LSTV key objects",
                                      modelName: "lstv-node", softwareVersion: "test"),
            description: "Analysed middle slice; NOT FOR DIAGNOSTIC USE", references: [middle, other])
        let path = dir + "/kos.dcm"
        try KeyObjectSelectionWriter.write(document, to: path)

        let (errors, all) = try Fixture.dciodvfyErrors(path)
        XCTAssertEqual(errors, [], "dciodvfy:\n\(all)")
        let ds = try DicomDataset(path: path)
        XCTAssertEqual(ds.text(.sopClassUID), SOPClass.keyObjectSelectionDocumentStorage)
        XCTAssertEqual(ds.text(.studyInstanceUID), middle.studyInstanceUID)
        XCTAssertEqual(ds.text(.sopInstanceUID), document.instance.sopInstanceUID)
        XCTAssertEqual(ds.text(.patientID), try DicomDataset(path: files[0]).text(.patientID))
        XCTAssertEqual(ds.int(.seriesNumber), 9903)

        guard FileManager.default.isExecutableFile(atPath: Fixture.python) else {
            return XCTFail("\(Fixture.python) missing: the suite's bootstrap creates .venv")
        }
        let script = """
        import sys, pydicom
        ds = pydicom.dcmread(sys.argv[1])
        title = ds.ConceptNameCodeSequence[0]
        images = [i.ReferencedSOPSequence[0].ReferencedSOPInstanceUID for i in ds.ContentSequence if i.ValueType == "IMAGE"]
        texts = [i.TextValue for i in ds.ContentSequence if i.ValueType == "TEXT"]
        evidence = sorted(i.ReferencedSOPInstanceUID for st in ds.CurrentRequestedProcedureEvidenceSequence
                          for se in st.ReferencedSeriesSequence for i in se.ReferencedSOPSequence)
        print(ds.Modality, title.CodeValue, title.CodingSchemeDesignator, "|".join(images), "|".join(evidence), texts[0], sep="\\n")
        """
        let o = try Fixture.run(Fixture.python, ["-c", script, path])
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertEqual(o.stdout.split(separator: "\n").map(String.init), [
            "KO", "113000", "DCM", "\(middle.sopInstanceUID)|\(other.sopInstanceUID)",
            [middle.sopInstanceUID, other.sopInstanceUID].sorted().joined(separator: "|"),
            "Analysed middle slice; NOT FOR DIAGNOSTIC USE",
        ])
    }

    func testNoReferenceIsRefused() throws {
        let files = try Fixture.seriesFiles()
        let source = try ReferencedInstance(file: files[0])
        let document = KeyObjectSelection(
            sourceInstancePath: files[0],
            instance: CreatedInstance(studyInstanceUID: source.studyInstanceUID, seriesInstanceUID: Fixture.uid(),
                                      sopInstanceUID: Fixture.uid(), seriesNumber: 1, seriesDescription: "x"),
            description: nil, references: [])
        XCTAssertThrowsError(try KeyObjectSelectionWriter.write(document, to: try Fixture.tempDir() + "/x.dcm")) {
            XCTAssertTrue("\($0)".contains("no referenced instance"), "\($0)")
        }
    }
}
