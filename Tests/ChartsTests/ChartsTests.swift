import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Charts

/// Every chart is well-formed XML (parsed by libxml2 through Foundation), draws one element per
/// datum, escapes its text and refers to nothing outside itself.
final class ChartsTests: XCTestCase {
    func parse(_ svg: String, file: StaticString = #filePath, line: UInt = #line) throws -> XMLDocument {
        do { return try XMLDocument(xmlString: svg, options: []) } catch {
            XCTFail("not well-formed XML: \(error)\n\(svg.prefix(500))", file: file, line: line)
            throw error
        }
    }

    func count(_ doc: XMLDocument, _ element: String, class className: String) throws -> Int {
        try doc.nodes(forXPath: "//\(element)[@class='\(className)']").count
    }

    func assertSelfContained(_ svg: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(svg.contains("http"), "no URL, not even a namespace", file: file, line: line)
        XCTAssertFalse(svg.contains("href"), file: file, line: line)
        XCTAssertTrue(svg.hasPrefix("<svg "), file: file, line: line)
    }

    func testHistogramBinsValuesAndDrawsOneBarPerBin() throws {
        XCTAssertEqual(Histogram.counts([0, 0.5, 1, 1.5, 3.9, 4], bins: 4, domain: 0...4), [2, 2, 0, 2])
        // Outside the domain: counted in the end bins; non-finite: not counted.
        XCTAssertEqual(Histogram.counts([-3, 9, .nan, .infinity], bins: 2, domain: 0...1), [1, 1])
        let svg = Histogram(values: [1, 2, 2, 3, 3, 3, .nan], bins: 5,
                            referenceLines: [ReferenceLine(.vertical, at: 2.5, label: "t")],
                            layout: ChartLayout(title: "h")).svg()
        let doc = try parse(svg)
        XCTAssertEqual(try count(doc, "rect", class: "bar"), 5)
        XCTAssertEqual(try count(doc, "line", class: "reference"), 1)
        XCTAssertEqual(try count(doc, "text", class: "empty"), 0)
        assertSelfContained(svg)
    }

    func testHistogramWithoutDataSaysSo() throws {
        let doc = try parse(Histogram(values: [], layout: ChartLayout(title: "empty")).svg())
        XCTAssertEqual(try count(doc, "text", class: "empty"), 1)
    }

    func testBoxPlotSummaryIsTukeys() throws {
        let s = try XCTUnwrap(BoxPlot.summary([1, 2, 3, 4, 100, .nan]))
        XCTAssertEqual([s.q1, s.median, s.q3], [2, 3, 4])
        XCTAssertEqual([s.lowerWhisker, s.upperWhisker], [1, 4])
        XCTAssertEqual(s.outliers, [100])
        XCTAssertEqual(try XCTUnwrap(BoxPlot.summary([1, 2])).median, 1.5)
        XCTAssertNil(BoxPlot.summary([.nan]))
    }

    func testBoxPlotDrawsABoxPerGroupWithValues() throws {
        let svg = BoxPlot(groups: [.init("a", [1, 2, 3, 4, 100]), .init("b", [0.5, 0.6]), .init("none", [])],
                          layout: ChartLayout(title: "boxes")).svg()
        let doc = try parse(svg)
        XCTAssertEqual(try count(doc, "rect", class: "box"), 2)
        XCTAssertEqual(try count(doc, "line", class: "median"), 2)
        XCTAssertEqual(try count(doc, "circle", class: "outlier"), 1)
        XCTAssertGreaterThan(try count(doc, "text", class: "tick-label"), 3)
        assertSelfContained(svg)
    }

    func testScatterDrawsFinitePointsAndReferenceLines() throws {
        let points = (0..<7).map { ScatterPlot.Point(x: Double($0), y: Double($0 * $0), colour: .red, tooltip: "p\($0)") }
            + [ScatterPlot.Point(x: .nan, y: 1)]
        let svg = ScatterPlot(points: points,
                              referenceLines: [ReferenceLine(.horizontal, at: 40, label: "high"),
                                               ReferenceLine(.horizontal, at: 10, label: "medium", colour: .amber)],
                              legend: [LegendEntry("low", .green)], layout: ChartLayout(title: "s", xLabel: "x", yLabel: "y")).svg()
        let doc = try parse(svg)
        XCTAssertEqual(try count(doc, "circle", class: "point"), 7)
        XCTAssertEqual(try count(doc, "line", class: "reference"), 2)
        XCTAssertEqual(try count(doc, "rect", class: "swatch"), 1)
        XCTAssertEqual(try doc.nodes(forXPath: "//circle[@class='point']/title").map(\.stringValue), (0..<7).map { "p\($0)" })
        assertSelfContained(svg)
    }

    func testBarChartDrawsEachBarWithItsValue() throws {
        let svg = BarChart(bars: [.init("4", 1), .init("5", 12), .init("6", 2), .init("undetermined", 0)],
                           layout: ChartLayout(title: "count")).svg()
        let doc = try parse(svg)
        XCTAssertEqual(try count(doc, "rect", class: "bar"), 4)
        XCTAssertEqual(try doc.nodes(forXPath: "//text[@class='value-label']").map(\.stringValue), ["1", "12", "2", "0"])
        assertSelfContained(svg)
    }

    func testLineChartDrawsCurvesAndMarkers() throws {
        var chart = LineChart(curves: [.init("chance", points: [ChartPoint(0, 0), ChartPoint(1, 1)], dashed: true),
                                       .init("ROC", points: [ChartPoint(0, 0), ChartPoint(0.2, 0.8), ChartPoint(1, 1)])],
                              markers: [.init(ChartPoint(0.2, 0.8), label: "high")], xDomain: 0...1, yDomain: 0...1,
                              layout: ChartLayout(title: "roc"))
        chart.legendCorner = .bottomRight
        let svg = chart.svg()
        let doc = try parse(svg)
        XCTAssertEqual(try count(doc, "path", class: "curve"), 2)
        XCTAssertEqual(try count(doc, "circle", class: "marker"), 1)
        XCTAssertEqual(try count(doc, "rect", class: "swatch"), 2)
        assertSelfContained(svg)
    }

    func testTextIsEscaped() throws {
        let nasty = #"<script>alert("x")</script> & 'quoted' ]]> \#u{1}"#
        let svg = ScatterPlot(points: [.init(x: 1, y: 1, tooltip: nasty)],
                              referenceLines: [ReferenceLine(.vertical, at: 1, label: nasty)],
                              legend: [LegendEntry(nasty, .blue)], layout: ChartLayout(title: nasty, xLabel: nasty, yLabel: nasty)).svg()
        XCTAssertFalse(svg.contains("<script"))
        let doc = try parse(svg)
        let clean = nasty.replacingOccurrences(of: "\u{1}", with: "")  // control characters are dropped
        XCTAssertEqual(try doc.nodes(forXPath: "/svg/title").first?.stringValue, clean)
        XCTAssertEqual(try doc.nodes(forXPath: "//text[@class='legend-label']").first?.stringValue, clean)
        XCTAssertEqual(try doc.nodes(forXPath: "/svg/@aria-label").first?.stringValue, clean)
        XCTAssertEqual(try doc.nodes(forXPath: "//circle[@class='point']/title").first?.stringValue, clean)
    }

    func testColoursAreHexOnly() {
        XCTAssertNotNil(ChartColour(hex: "#a1B2c3"))
        XCTAssertNotNil(ChartColour(hex: "#abc"))
        XCTAssertNil(ChartColour(hex: "red"))
        XCTAssertNil(ChartColour(hex: "#12\"4"))
        XCTAssertNil(ChartColour(hex: "url(#x)"))
    }

    func testTicksAreRoundNumbersInsideTheDomain() {
        let s = LinearScale(domain: 0.13...0.97, range: 0...100)
        XCTAssertEqual(s.ticks().map { s.tickLabel($0) }, ["0.2", "0.4", "0.6", "0.8"])
        XCTAssertEqual(LinearScale(domain: 0...50, range: 0...1).ticks(), [0, 10, 20, 30, 40, 50])
        // A degenerate domain is widened around its value.
        XCTAssertEqual(LinearScale(domain: 3...3, range: 0...10)(3), 5)
        XCTAssertEqual(LinearScale(domain: 0...1, range: 10...110, inverted: true)(0.25), 85)
        XCTAssertEqual(SVG.number(1.006), "1.01")
        XCTAssertEqual(SVG.number(2), "2")
        XCTAssertEqual(SVG.number(-0.5), "-0.5")
    }
}
