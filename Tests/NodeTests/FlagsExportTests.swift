import Foundation
@testable import Node
import Store
import TestSupport
import XCTest

/// `flags export`: analyze's CSV columns first (renamed from the view's where they differ), then
/// the view's other columns in its order; values as stored; JSON typed by column kind.
final class FlagsExportTests: XCTestCase {
    let reference = SeriesAnalysisReport.csvColumns

    /// A view with analyze's figures under the view's names, in another order, plus extras.
    var view: [ResultColumn] {
        let renamed = ["study_id": "study_instance_uid", "series_id": "series_instance_uid",
                       "junction": "junction_state", "ladder": "ladder_status"]
        let figures = reference.map { name -> ResultColumn in
            let kind: ColumnKind = ["lumbar_count"].contains(name) ? .integer
                : name.hasSuffix("_confidence") || name.hasSuffix("entropy") || name.hasPrefix("lstv_") || name.hasSuffix("_probability") ? .number
                : .text
            return ResultColumn(name: renamed[name] ?? name, kind: kind)
        }
        return [ResultColumn(name: "accession_number", kind: .text), ResultColumn(name: "result", kind: .json)]
            + figures.reversed() + [ResultColumn(name: "analysed_at", kind: .timestamp), ResultColumn(name: "analysis_id", kind: .integer)]
    }

    func testReferenceColumnsFirstThenTheViewsOthersInItsOrderWithoutTheResultJSON() throws {
        let export = try FlagsExport(view: view)
        let names = export.columns.map(\.name)
        XCTAssertEqual(Array(names.prefix(reference.count)), reference)
        XCTAssertEqual(Array(names.dropFirst(reference.count)), ["accession_number", "analysed_at", "analysis_id"])
        XCTAssertEqual(export.columns.first { $0.name == "series_id" }?.source.name, "series_instance_uid")
        XCTAssertEqual(export.columns.first { $0.name == "ladder" }?.source.name, "ladder_status")
    }

    func testAViewWithoutOneOfAnalyzesColumnsIsRefusedNamingIt() {
        XCTAssertThrowsError(try FlagsExport(view: view.filter { $0.name != "l3_l4_spatial_entropy" })) { error in
            XCTAssertTrue("\(error)".contains("l3_l4_spatial_entropy"), "\(error)")
        }
    }

    func row(_ values: [String: String]) -> Row {
        Row(values: values, kinds: Dictionary(uniqueKeysWithValues: view.map { ($0.name, $0.kind) }))
    }

    func testCSVHasTheStoredTextQuotedWhereNeededAndNullEmpty() throws {
        let export = try FlagsExport(view: view)
        let csv = export.csv([row(["study_instance_uid": "1.2", "series_instance_uid": "1.2.3", "l1_l2_confidence": "0.123456789012345",
                                   "suspicion_reasons": #"a, b | "c""#, "accession_number": "00123", "analysis_id": "7"])])
        let lines = csv.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2)
        XCTAssertEqual(lines[0], export.columns.map(\.name).joined(separator: ","))
        // Under the export's names; every digit the database holds; quotes doubled; NULL empty.
        let expected = ["study_id": "1.2", "series_id": "1.2.3", "l1_l2_confidence": "0.123456789012345",
                        "suspicion_reasons": #""a, b | ""c""""#, "accession_number": "00123", "analysis_id": "7"]
        XCTAssertEqual(lines[1], export.columns.map { expected[$0.name] ?? "" }.joined(separator: ","))
    }

    func testJSONIsTypedAndKeepsTheColumnOrder() throws {
        let export = try FlagsExport(view: view)
        let text = try export.json([row(["study_instance_uid": "1.2", "l5_s1_entropy": "4.25", "lumbar_count": "5",
                                         "accession_number": "00123", "analysed_at": "2026-11-30 08:00:00+00"])])
        let objects = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
        XCTAssertEqual(objects.count, 1)
        let o = objects[0]
        XCTAssertEqual(o.count, export.columns.count)
        XCTAssertEqual(o["l5_s1_entropy"] as? Double, 4.25)
        XCTAssertEqual(o["lumbar_count"] as? Int, 5)
        XCTAssertEqual(o["accession_number"] as? String, "00123", "text stays text")
        XCTAssertEqual(o["analysed_at"] as? String, "2026-11-30 08:00:00+00")
        XCTAssertTrue(o["l1_l2_confidence"] is NSNull)
        // Keys in the export's order: the study first, the database's extras last.
        let keys = text.split(separator: "\n").compactMap { line -> String? in
            guard let q = line.firstIndex(of: "\""), let end = line[line.index(after: q)...].firstIndex(of: "\"") else { return nil }
            return String(line[line.index(after: q)..<end])
        }
        XCTAssertEqual(keys, export.columns.map(\.name))
        XCTAssertEqual(try export.json([]), "[]")
    }

    /// The node's own view, migrated: every analyze CSV column is there (an empty export is its header).
    func testTheMigratedViewHoldsEveryCSVColumn() throws {
        let database = try TestDatabase.migrated()
        let table = try Pipeline(database: database).flagsTable(since: nil, risk: nil)
        XCTAssertTrue(table.rows.isEmpty)
        let export = try FlagsExport(view: table.columns)
        XCTAssertEqual(Array(export.columns.map(\.name).prefix(reference.count)), reference)
        XCTAssertTrue(export.columns.contains { $0.name == "accession_number" })
        XCTAssertFalse(export.columns.contains { $0.name == "result" })
        XCTAssertEqual(try export.render([], as: .csv), export.columns.map(\.name).joined(separator: ","))
    }
}
