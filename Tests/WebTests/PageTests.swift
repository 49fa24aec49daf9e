import Analysis
import Cohort
import Foundation
import Records
import Store
@testable import Web
import XCTest

/// Every page renders with sample data, and text that comes from the data is escaped.
final class PageTests: XCTestCase {
    static let hostile = "<script>alert(1)</script>&\"'"

    let admin = PageLayout.Viewer(name: "pacs-admin", role: .admin, csrf: "c5rf")

    func testPagesAreHTMLNeverCached() {
        let r = PageLayout.html("<p>x</p>", status: .notFound)
        XCTAssertEqual(r.status, .notFound)
        XCTAssertEqual(r.headers[.contentType], "text/html; charset=utf-8")
        XCTAssertEqual(r.headers[.cacheControl], "no-store")
    }

    func assertEscaped(_ page: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(page.contains(Self.hostile), "raw text from the data", file: file, line: line)
        XCTAssertTrue(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;"), "escaped text from the data", file: file, line: line)
        XCTAssertFalse(page.contains("http://") || page.contains("https://"), "no external URL", file: file, line: line)
    }

    static func flags() -> AnalysisFlags {
        AnalysisFlags(risk: "high", ladderStatus: "ok", riskEntropy: 6.1,
                      levels: Dictionary(uniqueKeysWithValues: LevelName.allCases.map { ($0.rawValue, .init(confidence: 0.9, entropy: 4.25, spatialEntropy: 1.5)) }),
                      lstvSuspicion: 6.25, suspicionScale: "entropy_nats", lumbarCount: 6, lumbarCountProbability: 0.8,
                      junctionState: "transitional", riskThresholdOrigin: "model calibration", suspicionReasons: [hostile, "six lumbar"])
    }

    static func delivery(_ state: OutboxState, id: Int64) -> OutboxItem {
        OutboxItem(id: id, resultID: 1, kind: .keyImage, path: "/x", sopInstanceUID: "1.2.3.\(id)",
                   destination: DicomPeer(aeTitle: "PACS", host: "pacs", port: 104), state: state, attempts: 3,
                   nextAttemptAt: Date(), lastStatus: "A700", lastError: hostile, sentAt: nil, seriesInstanceUID: "1.2.9")
    }

    func testWorklistRenders() throws {
        let filter = try WorklistPage.Filter(risk: "high", since: "2026-01-01", offset: "50")
        let row = WorklistPage.Row(seriesInstanceUID: "1.2.3", analysedAt: "2026-01-02 10:00:00 UTC", risk: "high", suspicion: "6.250",
                                   lumbarCount: "6", ladderStatus: "ok", accession: Self.hostile, seriesDescription: "T2 SAG",
                                   sent: 1, pending: 0, dead: 1)
        let page = PageLayout.page(WorklistPage.template, WorklistPage(filter: filter, rows: [row], more: true),
                                     title: "Worklist", viewer: admin)
        assertEscaped(page)
        XCTAssertTrue(page.contains(#"<a href="/series/1.2.3">"#))
        XCTAssertTrue(page.contains(#"class="risk risk-high""#))
        XCTAssertTrue(page.contains(#"<option value="high" selected>"#))
        XCTAssertTrue(page.contains("offset=100") && page.contains("offset=0"), "paging both ways")
        XCTAssertTrue(page.contains(#"action="/logout""#) && page.contains("c5rf"), "sign-out form with the CSRF token")
        let empty = PageLayout.page(WorklistPage.template, WorklistPage(filter: try .init(risk: nil, since: nil, offset: nil), rows: [], more: false),
                                     title: "Worklist", viewer: admin)
        XCTAssertTrue(empty.contains("No analysed series match."))
    }

    func testSeriesPageRendersWithRetryButtonsOnlyForAdmins() throws {
        let c = CohortCase(studyInstanceUID: "1.2.8", seriesInstanceUID: "1.2.9", accessionNumber: Self.hostile, seriesDescription: "T2",
                           flags: Self.flags(), thresholds: RiskThresholds(high: 5.5, medium: 4), model: ModelIdentity(name: "m", version: "1", sha256: "00"),
                           analysedAt: Date())
        let deliveries = [Self.delivery(.dead, id: 7), Self.delivery(.sent, id: 8)]
        let forAdmin = SeriesPage(c, deliveries: deliveries, keyImage: .success("data:image/png;base64,AAAA"), admin: true, csrf: "tok")
        let page = PageLayout.page(SeriesPage.template, forAdmin, title: "Series", viewer: admin)
        assertEscaped(page)
        XCTAssertTrue(page.contains(#"src="data:image/png;base64,AAAA""#))
        XCTAssertTrue(page.contains("L5/S1") && page.contains("4.250"))
        XCTAssertTrue(page.contains("high &gt; 5.500, medium ≥ 4.000 (model calibration)"))
        XCTAssertEqual(page.components(separatedBy: #"action="/deliveries/7/retry""#).count, 2, "one retry form, for the dead delivery")
        XCTAssertFalse(page.contains("/deliveries/8/retry"))
        XCTAssertTrue(page.contains(#"name="csrf" value="tok""#) && page.contains(#"name="return" value="/series/1.2.9""#))

        let forViewer = SeriesPage(c, deliveries: deliveries, keyImage: nil, admin: false, csrf: "tok")
        let viewerPage = PageLayout.page(SeriesPage.template, forViewer, title: "Series", viewer: admin)
        XCTAssertFalse(viewerPage.contains("/retry"))
        XCTAssertTrue(viewerPage.contains("No key image was made"))
    }

    func testOutboxUploadLoginAndProblemPagesRender() throws {
        let outbox = PageLayout.page(OutboxPage.template, OutboxPage([Self.delivery(.dead, id: 3)], admin: true, csrf: "tok"),
                                     title: "Outbox", viewer: admin)
        assertEscaped(outbox)
        XCTAssertTrue(outbox.contains(#"action="/deliveries/3/retry""#) && outbox.contains("resend"))
        XCTAssertFalse(PageLayout.page(OutboxPage.template, OutboxPage([Self.delivery(.dead, id: 3)], admin: false, csrf: nil),
                                     title: "Outbox", viewer: admin).contains("/retry"))

        let upload = PageLayout.page(UploadPage.template, UploadPage(csrf: "abc123"), title: "Upload", viewer: admin)
        XCTAssertTrue(upload.contains(#"<input id="folder" type="file" multiple webkitdirectory>"#))
        XCTAssertTrue(upload.contains(#"<input id="files" type="file" multiple>"#))
        XCTAssertTrue(upload.contains(#"const csrf = "abc123";"#))
        XCTAssertTrue(upload.contains("/dicomweb/studies") && upload.contains("/api/v1/series/"))

        let login = PageLayout.page(LoginPage.template, LoginPage(problem: Self.hostile), title: "Sign in",
                                     viewer: nil)
        assertEscaped(login)
        XCTAssertTrue(login.contains(#"<form method="post" action="/login">"#))
        XCTAssertFalse(login.contains("/logout"), "nobody is signed in on the login page")

        let problem = PageLayout.page(ProblemPage.template, ProblemPage(message: Self.hostile), title: "Error", viewer: admin)
        assertEscaped(problem)
    }
}
