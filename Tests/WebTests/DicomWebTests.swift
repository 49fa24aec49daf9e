import Foundation
import Raster
import Store
@testable import Web
import XCTest

/// The pure parts of the DICOMweb read side: search parameters, DICOM JSON answers, the multipart
/// framing of retrieves, Accept negotiation and the grey rendering.
final class DicomWebTests: XCTestCase {
    func object(_ sop: String, series: String = "1.2.2", study: String = "1.2.1", modality: String? = "MR",
                origin: StoredObject.Origin = .received) -> StoredObject {
        StoredObject(origin: origin, studyInstanceUID: study, seriesInstanceUID: series, sopInstanceUID: sop,
                     sopClassUID: "1.2.840.10008.5.1.4.1.1.4", path: "/x/\(sop).dcm", transferSyntaxUID: "1.2.840.10008.1.2.1",
                     instanceNumber: Int(sop.split(separator: ".").last!), patientID: "P1", accessionNumber: "A1",
                     studyDate: "20240102", modality: modality, seriesDescription: "T2 sag", seriesNumber: 3)
    }

    func testSearchParametersByKeywordOrTag() throws {
        let q = try SearchQuery(parameters: [("StudyInstanceUID", "1.2.3"), ("0020000e", "1.2.4"), ("Modality", "MR"),
                                             ("AccessionNumber", "A1"), ("00100020", "P1"), ("limit", "5"), ("offset", "2"),
                                             ("includefield", "all"), ("fuzzymatching", "false")])
        XCTAssertEqual(q.match, ObjectQuery(studyInstanceUID: "1.2.3", seriesInstanceUID: "1.2.4", modality: "MR",
                                            accessionNumber: "A1", patientID: "P1"))
        XCTAssertEqual(q.limit, 5)
        XCTAssertEqual(q.offset, 2)
        XCTAssertEqual(q.page(Array(0..<10)), [2, 3, 4, 5, 6])
        XCTAssertEqual(try SearchQuery(parameters: [("PatientID", "")]).match, ObjectQuery(), "empty = universal match")
    }

    func testSearchParametersTheNodeCannotHonourAreRefused() {
        XCTAssertThrowsError(try SearchQuery(parameters: [("PatientName", "DOE")]))
        XCTAssertThrowsError(try SearchQuery(parameters: [("PatientID", "P*")]))
        XCTAssertThrowsError(try SearchQuery(parameters: [("StudyInstanceUID", "1.2,1.3")]))
        XCTAssertThrowsError(try SearchQuery(parameters: [("limit", "0")]))
        XCTAssertThrowsError(try SearchQuery(parameters: [("offset", "-1")]))
        XCTAssertThrowsError(try SearchQuery(parameters: [("fuzzymatching", "true")]))
        XCTAssertThrowsError(try SearchQuery(parameters: [("SeriesNumber", "3")]))
    }

    func testPathUIDsRestrictTheSearch() throws {
        var q = try SearchQuery(parameters: [("StudyInstanceUID", "1.2.3")])
        XCTAssertTrue(q.restrict(study: "1.2.3", series: "1.2.4"))
        XCTAssertEqual(q.match.seriesInstanceUID, "1.2.4")
        XCTAssertFalse(q.restrict(study: "1.2.9", series: nil), "a contradiction matches nothing")
    }

    func testAnswersAreDicomJSONPerLevel() throws {
        let objects = [object("1.2.3.1"), object("1.2.3.2"),
                       object("1.2.9.1", series: "1.2.9", modality: "SR", origin: .result(.sr))]
        let studies = SearchResults.build(objects, level: .study, baseURL: "http://node:8080")
        XCTAssertEqual(studies.count, 1)
        let study = try XCTUnwrap(studies.first)
        XCTAssertEqual(study["0020000D"] as? [String: AnyHashable], ["vr": "UI", "Value": ["1.2.1"]])
        XCTAssertEqual(study["00080061"] as? [String: AnyHashable], ["vr": "CS", "Value": ["MR", "SR"]])
        XCTAssertEqual(study["00201206"] as? [String: AnyHashable], ["vr": "IS", "Value": [2]])
        XCTAssertEqual(study["00201208"] as? [String: AnyHashable], ["vr": "IS", "Value": [3]])
        XCTAssertEqual(study["00081190"] as? [String: AnyHashable], ["vr": "UR", "Value": ["http://node:8080/dicomweb/studies/1.2.1"]])
        XCTAssertEqual(study["00080020"] as? [String: AnyHashable], ["vr": "DA", "Value": ["20240102"]])

        let series = SearchResults.build(objects, level: .series, baseURL: "")
        XCTAssertEqual(series.compactMap { ($0["0020000E"] as? [String: Any])?["Value"] as? [String] }, [["1.2.2"], ["1.2.9"]])
        XCTAssertEqual(series[0]["00201209"] as? [String: AnyHashable], ["vr": "IS", "Value": [2]])
        XCTAssertEqual(series[0]["00200011"] as? [String: AnyHashable], ["vr": "IS", "Value": [3]])

        let instances = SearchResults.build(objects, level: .instance, baseURL: "")
        XCTAssertEqual(instances.count, 3)
        XCTAssertNil(instances[0]["00201209"], "counts are series attributes")
        XCTAssertEqual(instances[1]["00200013"] as? [String: AnyHashable], ["vr": "IS", "Value": [2]])
        XCTAssertEqual(instances[2]["00081190"] as? [String: AnyHashable],
                       ["vr": "UR", "Value": ["/dicomweb/studies/1.2.1/series/1.2.9/instances/1.2.9.1"]])
        // JSONSerialization takes it (the response path).
        XCTAssertNoThrow(try JSONSerialization.data(withJSONObject: instances))

        XCTAssertEqual(SearchResults.build(objects, level: .study, baseURL: "", studyModality: "SR").count, 1)
        XCTAssertEqual(SearchResults.build(objects, level: .study, baseURL: "", studyModality: "CT").count, 0)
    }

    func testAbsentValuesAreLeftOut() {
        var json = DicomJSONObject()
        json.set(.seriesDescription, nil as String?)
        json.set(.accessionNumber, "")
        json.set(.seriesNumber, nil as Int?)
        XCTAssertTrue(json.attributes.isEmpty)
        XCTAssertEqual(Attribute(parameter: "0008103e"), .seriesDescription)
        XCTAssertEqual(Attribute(parameter: "SOPInstanceUID"), .sopInstanceUID)
        XCTAssertNil(Attribute(parameter: "sopinstanceuid"), "keywords are case-sensitive")
    }

    /// What the writer frames, the node's own STOW parser splits back into the same bytes.
    func testMultipartFramingRoundTrips() throws {
        let writer = MultipartWriter(boundary: MultipartWriter.randomBoundary(), type: "application/dicom")
        let files: [[UInt8]] = [Array("DICM first\r\n--not-a-boundary".utf8), [0, 13, 10, 45, 45, 255], []]
        var body: [UInt8] = []
        for (i, f) in files.enumerated() {
            body += writer.partHeader(transferSyntaxUID: i == 0 ? "1.2.840.10008.1.2.1" : nil) + f + MultipartWriter.partEnd
        }
        body += writer.closeDelimiter
        XCTAssertEqual(writer.length(of: files.enumerated().map { ($0.element.count, $0.offset == 0 ? "1.2.840.10008.1.2.1" : nil) }), body.count)
        let parameters = MultipartRelated.parameters(of: writer.contentType)
        XCTAssertEqual(parameters["type"], "application/dicom")
        let parts = try MultipartRelated.parts(body, boundary: try XCTUnwrap(parameters["boundary"]))
        XCTAssertEqual(parts.map { Array($0.body) }, files)
        XCTAssertEqual(parts[0].headers["content-type"], "application/dicom; transfer-syntax=1.2.840.10008.1.2.1")
        XCTAssertNotEqual(MultipartWriter.randomBoundary(), MultipartWriter.randomBoundary())
    }

    func testAcceptNegotiation() {
        let explicit = "1.2.840.10008.1.2.1"
        XCTAssertTrue(AcceptHeader(nil).acceptsMultipart(of: "application/dicom", storedTransferSyntaxes: [explicit]))
        XCTAssertTrue(AcceptHeader("multipart/related; type=\"application/dicom\"").acceptsMultipart(of: "application/dicom", storedTransferSyntaxes: [explicit]))
        XCTAssertTrue(AcceptHeader("multipart/related; type=\"application/dicom\"; transfer-syntax=*").acceptsMultipart(of: "application/dicom", storedTransferSyntaxes: [explicit]))
        XCTAssertTrue(AcceptHeader("*/*").acceptsMultipart(of: "application/dicom", storedTransferSyntaxes: []))
        XCTAssertFalse(AcceptHeader("multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.4.50")
            .acceptsMultipart(of: "application/dicom", storedTransferSyntaxes: [explicit]), "no transcoding")
        XCTAssertFalse(AcceptHeader("application/pdf").acceptsMultipart(of: "application/dicom", storedTransferSyntaxes: []))
        XCTAssertFalse(AcceptHeader("multipart/related; type=\"image/jpeg\"").acceptsMultipart(of: "application/dicom", storedTransferSyntaxes: []))
        XCTAssertTrue(AcceptHeader("image/*").accepts("image/png"))
        XCTAssertTrue(AcceptHeader("image/jpeg, image/png;q=0.5").accepts("image/png"))
        XCTAssertFalse(AcceptHeader("image/jpeg, image/png;q=0").accepts("image/png"))
        XCTAssertFalse(AcceptHeader("application/dicom+xml").accepts("application/dicom+json"))
    }

    /// A monochrome frame is rendered from its minimum (black) to its maximum (white).
    func testGreyRenderingStretchesTheRange() {
        let image = RGBImage(greyscale: [-100, 0, 100, 412], rows: 2, columns: 2)
        XCTAssertEqual(image.pixels, [0, 0, 0, 50, 50, 50, 100, 100, 100, 255, 255, 255])
        XCTAssertEqual(RGBImage(greyscale: [7, 7], rows: 1, columns: 2).pixels, [0, 0, 0, 0, 0, 0], "flat is black")
    }
}
