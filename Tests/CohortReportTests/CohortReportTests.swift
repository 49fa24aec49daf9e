import Cohort
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import CohortReport

final class CohortReportTests: XCTestCase {
    func render(_ report: CohortReport) throws -> String {
        try report.render(generatedAt: Date(timeIntervalSince1970: 1_800_000_000)).html
    }

    /// The inline `<svg>…</svg>` elements of a page.
    func charts(_ html: String) -> [String] {
        var out: [String] = [], rest = html[...]
        while let start = rest.range(of: "<svg "), let end = rest[start.lowerBound...].range(of: "</svg>") {
            out.append(String(rest[start.lowerBound..<end.upperBound]))
            rest = rest[end.upperBound...]
        }
        return out
    }

    func testEverySectionIsThereAndNothingIsFetched() throws {
        let html = try render(CohortReport(cases: ReportFixtures.cohort(), failed: 2, source: "results.json"))
        for section in ReportSection.allCases {
            XCTAssertEqual(html.components(separatedBy: "<section id=\"\(section.rawValue)\">").count, 2, "section \(section.rawValue) once")
        }
        XCTAssertFalse(html.lowercased().contains("http"), "no URL of any kind")
        XCTAssertFalse(html.contains("<script"))
        let attribute = try NSRegularExpression(pattern: #"\b(src|href)\s*=\s*"([^"]*)""#)
        for m in attribute.matches(in: html, range: NSRange(html.startIndex..., in: html)) {
            XCTFail("a reference to \(html[Range(m.range(at: 2), in: html)!]): none expected without thumbnails")
        }
        // 1 risk bar chart, 5 entropy histograms, 1 box plot, 2 scatters, suspicion histogram, lumbar count bars.
        let svgs = charts(html)
        XCTAssertEqual(svgs.count, 11)
        for svg in svgs { XCTAssertNoThrow(try XMLDocument(xmlString: svg, options: []), String(svg.prefix(200))) }
        XCTAssertTrue(html.contains("2 failed"))
        XCTAssertTrue(html.contains("Labels were not given"))
    }

    func testCountsRatesAndTopCandidates() throws {
        // Suspicion -1 … 6.25 in steps of 0.25 against high > 4.96, medium ≥ 2.97: 6 high (5 … 6.25), 8 medium (3 … 4.75).
        let cases = ReportFixtures.cohort()
        let summary = CohortSummary(cases: cases, failed: 0)
        XCTAssertEqual([summary.count(.low), summary.count(.medium), summary.count(.high)], [16, 8, 6])
        XCTAssertEqual(try XCTUnwrap(summary.percent([.high])), 20, accuracy: 1e-9)
        XCTAssertEqual(summary.thresholds, ReportFixtures.thresholds)
        XCTAssertEqual(summary.lumbarCounts[.undetermined], 5)
        let html = try render(CohortReport(cases: cases, source: "r.json"))
        XCTAssertTrue(html.contains("<b>20.0 %</b> high"))
        XCTAssertTrue(html.contains("<b>46.7 %</b> medium or high"))
        XCTAssertEqual(html.components(separatedBy: "<tr class=\"candidate\">").count - 1, 20)
        let top = Candidates.top(cases, count: 3).map(\.flags.lstvSuspicion)
        XCTAssertEqual(top, [6.25, 6, 5.75])
        // The first row is the highest suspicion; the table says none has a key image (file source).
        let firstRow = try XCTUnwrap(html.components(separatedBy: "<tr class=\"candidate\">").dropFirst().first)
        XCTAssertTrue(firstRow.contains("1.2.826.0.1.3680043.10.1.29.2"))
        XCTAssertTrue(firstRow.contains("no-image"))
    }

    func testTextFromDataIsEscaped() throws {
        let evil = #"<script>alert('x')</script>"#
        var c = ReportFixtures.makeCase(1, suspicion: 9, accession: #"A"><img src=x onerror=alert(1)>"#, reasons: [evil])
        c.seriesInstanceUID = "1.2.3<b>"
        let html = try render(CohortReport(cases: [c], source: #"<i>file</i>.json"#))
        XCTAssertFalse(html.contains("<script>"))
        XCTAssertFalse(html.contains("<img src=x"))
        XCTAssertFalse(html.contains("1.2.3<b>"))
        XCTAssertFalse(html.contains("<i>file"))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
        XCTAssertTrue(html.contains("1.2.3&lt;b&gt;"))
    }

    func testLabelsGiveCurvesAndTheOperatingPoint() throws {
        let cases = ReportFixtures.cohort()
        // The top 6 (high) and 4 of the rest are LSTV: AUC well above chance; one label matches nothing.
        var rows = ["accession_number,lstv,castellvi"]
        for (i, c) in cases.enumerated() { rows.append("\(c.accessionNumber!),\(i >= 24 || i % 6 == 1 ? 1 : 0),\(i == 29 ? "IIIb" : "")") }
        rows.append("NOT-IN-COHORT,1,")
        let labels = try Labels(csv: rows.joined(separator: "\n"), source: "labels.csv")
        let html = try render(CohortReport(cases: cases, source: "r.json", labels: labels))
        XCTAssertFalse(html.contains("Labels were not given"))
        XCTAssertTrue(html.contains("30 series labelled (10 LSTV, 20 without); 1 labels matched no series"))
        XCTAssertTrue(html.contains("ROC AUC <b>"))
        XCTAssertTrue(html.contains("(6 TP, 0 FP, 4 FN, 20 TN)"), "the high threshold calls the 6 high cases")
        XCTAssertTrue(html.contains("LSTV (Castellvi IIIb)"))
        let svgs = charts(html)
        XCTAssertEqual(svgs.count, 13, "ROC and PR added")
        let roc = try XMLDocument(xmlString: try XCTUnwrap(svgs.first { $0.contains("ROC of lstv_suspicion") }), options: [])
        XCTAssertEqual(try roc.nodes(forXPath: "//circle[@class='marker']").count, 1)
        XCTAssertEqual(try roc.nodes(forXPath: "//path[@class='curve']").count, 2)
    }

    func testOneLabelledClassSaysWhyThereIsNoCurve() throws {
        let labels = try Labels(csv: "accession_number,lstv\nACC1,0\nACC2,0\n", source: "l.csv")
        let html = try render(CohortReport(cases: ReportFixtures.cohort(), source: "r.json", labels: labels))
        XCTAssertTrue(html.contains("ROC needs labelled series of both kinds"))
        XCTAssertEqual(charts(html).count, 11)
    }

    func testAnEmptyCohortStillRenders() throws {
        let html = try render(CohortReport(cases: [], failed: 3, source: "r.json"))
        for section in ReportSection.allCases { XCTAssertTrue(html.contains("id=\"\(section.rawValue)\"")) }
        XCTAssertTrue(html.contains("no data"))
    }

    func testAMissingKeyImageIsANoteNotAFailure() throws {
        let c = ReportFixtures.makeCase(1, suspicion: 6, keyImage: "/nonexistent/key_image.dcm")
        let (html, warnings) = try CohortReport(cases: [c], source: "db").render()
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(html.contains("Key image of series 1.2.826.0.1.3680043.10.1.1.2 not shown"))
    }
}
