import XCTest
@testable import Analysis

final class SuspicionScoreTests: XCTestCase {
    let consistent = LadderCheck(status: .consistent, reasons: [], space: .px)

    /// Every feature's normal range: median 1, sd 0.1 (so value 1.3 is z = 3 for a count feature).
    func calibration(thresholds: RiskThresholds = RiskThresholds(high: 4, medium: 2)) -> SuspicionCalibration {
        SuspicionCalibration(features: Dictionary(uniqueKeysWithValues: SuspicionFeature.allCases.map { ($0, NormalRange(median: 1, sd: 0.1)) }),
                             ladderTerm: 2, thresholds: thresholds, provenance: "test")
    }

    func evidence(_ values: [SuspicionFeature: Double], posterior: [Int: Double]? = nil) -> SuspicionEvidence {
        SuspicionEvidence(values: values, levelStep: 17, thoracolumbarInView: true, sacrumInView: true, countPosterior: posterior)
    }

    func testUncalibratedModelIsScoredOnTheReferenceScale() {
        let r = Suspicion.score(evidence([:]), ladder: consistent, l5s1Entropy: 5.2, calibration: nil)
        XCTAssertEqual(r.value, 5.2)
        XCTAssertEqual(r.scale, .l5s1Entropy)
        XCTAssertEqual(r.terms, [])
        XCTAssertEqual(r.reasons, [])
        XCTAssertEqual(r.lumbarCount.value, 5)
        XCTAssertNil(r.lumbarCount.probability)
    }

    func testTypicalAnatomyScoresZero() {
        let all = Dictionary(uniqueKeysWithValues: SuspicionFeature.allCases.map { ($0, 1.0) })
        let r = Suspicion.score(evidence(all), ladder: consistent, l5s1Entropy: 5, calibration: calibration())
        XCTAssertEqual(r.value, 0, accuracy: 1e-12)
        XCTAssertEqual(r.scale, .normalDeviation)
        XCTAssertEqual(r.reasons, [])
        XCTAssertEqual(r.junction.state, .typical)
    }

    /// Components are the mean z of their features; the value is the root sum of squares of the
    /// positive ones; the junction's features are suspicious when low.
    func testComponentsCombine() throws {
        var v = Dictionary(uniqueKeysWithValues: SuspicionFeature.allCases.map { ($0, 1.0) })
        v[.thoracolumbarEntropy] = 1.6   // z 6; the other four count features z 0 → mean 1.2
        v[.lumbosacralSpan] = 0.1        // z 9 (lower is suspicious); three junction features → mean 3
        let r = Suspicion.score(evidence(v), ladder: consistent, l5s1Entropy: 5, calibration: calibration())
        let count = try XCTUnwrap(r.terms.first { $0.component == .count }?.z)
        let junction = try XCTUnwrap(r.terms.first { $0.component == .junction }?.z)
        XCTAssertEqual(count, 1.2, accuracy: 1e-9)
        XCTAssertEqual(junction, 3, accuracy: 1e-9)
        XCTAssertEqual(r.value, (1.44 + 9.0).squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(r.terms.map(\.component), [.count, .locator, .junction, .ladder])
        XCTAssertEqual(r.junction.state, .narrow)
        // Both features are beyond two normal SDs: both are reasons, in the reader's words.
        XCTAssertEqual(r.reasons.count, 2, "\(r.reasons)")
        XCTAssertTrue(r.reasons.contains { $0.hasPrefix("Thoracolumbar junction uncertain: the T12/L1 map is spread") })
        XCTAssertTrue(r.reasons.contains { $0.hasPrefix("Lumbosacral junction narrow: L5 body to sacrum is 0.10") })
    }

    func testNegativeZDoesNotLowerTheValueBelowItsOtherParts() {
        var v = Dictionary(uniqueKeysWithValues: SuspicionFeature.allCases.map { ($0, 1.0) })
        v[.lumbosacralSpan] = 2.0  // a wide junction: z -10, not suspicious
        v[.thoracolumbarEntropy] = 1.6
        let r = Suspicion.score(evidence(v), ladder: consistent, l5s1Entropy: 5, calibration: calibration())
        XCTAssertEqual(r.value, 1.2, accuracy: 1e-9)
    }

    func testInconsistentLadderAddsItsTermAndReason() {
        let all = Dictionary(uniqueKeysWithValues: SuspicionFeature.allCases.map { ($0, 1.0) })
        let ladder = LadderCheck(status: .inconsistent, reasons: ["L3/L4 is not below L2/L3"], space: .px)
        let r = Suspicion.score(evidence(all), ladder: ladder, l5s1Entropy: 5, calibration: calibration())
        XCTAssertEqual(r.value, 2, accuracy: 1e-12)
        XCTAssertEqual(r.reasons, ["Level ladder inconsistent: L3/L4 is not below L2/L3"])
    }

    func testLocatorCountIsStatedWithItsProbability() {
        let r = Suspicion.score(evidence([.countShift: 0.8], posterior: [4: 0.05, 5: 0.2, 6: 0.75]), ladder: consistent,
                                l5s1Entropy: 5, calibration: calibration())
        // The locator's term stands on its own: (0.8 - 1) / 0.1 is below normal here, so nothing adds.
        XCTAssertEqual(r.terms.first { $0.component == .locator }?.z ?? .nan, -2, accuracy: 1e-9)
        XCTAssertEqual(r.lumbarCount.value, 6)
        XCTAssertEqual(try XCTUnwrap(r.lumbarCount.probability), 0.75, accuracy: 1e-12)
        XCTAssertTrue(r.reasons.first?.hasPrefix("Lumbar count 6 suspected (probability 0.75)") ?? false, "\(r.reasons)")
        XCTAssertTrue(r.reasons.first?.contains("not renumbered") ?? false)
    }

    func testCountIsUndeterminedWhenAnEndIsOutOfView() {
        var e = evidence([:])
        e.thoracolumbarInView = false
        var r = Suspicion.score(e, ladder: consistent, l5s1Entropy: 5, calibration: calibration())
        XCTAssertNil(r.lumbarCount.value)
        XCTAssertEqual(r.lumbarCount.undeterminedBecause, "the thoracolumbar junction (T12/L1 and the level above it) is not in view")
        e = evidence([:])
        e.sacrumInView = false
        r = Suspicion.score(e, ladder: consistent, l5s1Entropy: 5, calibration: calibration())
        XCTAssertEqual(r.lumbarCount.undeterminedBecause, "the sacrum is not found in view")
        r = Suspicion.score(evidence([:]), ladder: LadderCheck(status: .incomplete, reasons: ["no point for L5/S1 (no pixel above 0.5)"], space: .px),
                            l5s1Entropy: 5, calibration: calibration())
        XCTAssertNil(r.lumbarCount.value)
        XCTAssertEqual(r.junction.state, .undetermined)
    }

    func testRiskFollowsTheThresholdSource() throws {
        var result = try resultForDecide()
        let all = Dictionary(uniqueKeysWithValues: SuspicionFeature.allCases.map { ($0, 1.0) })
        var v = all
        v[.thoracolumbarEntropy] = 1.75  // z 7.5, count z 1.5 → value 1.5
        let cal = calibration(thresholds: RiskThresholds(high: 4, medium: 1.4))
        result.decide(evidence: evidence(v), calibration: cal, thresholds: .model)
        XCTAssertEqual(result.risk, .medium)
        XCTAssertEqual(result.riskThresholdOrigin, .model)
        XCTAssertEqual(result.lstvSuspicion, 1.5, accuracy: 1e-9)
        result.decide(evidence: evidence(v), calibration: cal, thresholds: .configured(RiskThresholds(high: 1.2, medium: 1)))
        XCTAssertEqual(result.risk, .high)
        XCTAssertEqual(result.riskThresholdOrigin, .configuration)
        // A model without a calibration: the reference rule on the L5/S1 entropy.
        result.decide(evidence: evidence(v), calibration: nil, thresholds: .model)
        XCTAssertEqual(result.riskThresholdOrigin, .reference)
        XCTAssertEqual(result.lstvSuspicion, result.riskEntropy)
        XCTAssertEqual(result.risk, RiskThresholds.default.classify(result.riskEntropy))
    }

    func resultForDecide() throws -> AnalysisResult {
        var metrics: [LevelName: LevelMetrics] = [:]
        for (i, l) in LevelName.allCases.enumerated() {
            metrics[l] = LevelMetrics(peakConfidence: 0.9, entropy: 4.5, spatialEntropy: 1,
                                      point: PixelPoint(row: 40 + 20 * Double(i), column: 80))
        }
        let slice = SourceSlice(pixels: [Float](repeating: 0, count: 160 * 160), rows: 160, columns: 160, sopInstanceUID: "1.2.3")
        return try AnalysisResult.assemble(metrics: metrics, gridRows: 160, gridColumns: 160, stack: SliceStack([slice]))
    }

    func testEvidenceEncodesEveryFeatureAndRoundTrips() throws {
        let e = evidence([.lumbosacralSpan: 0.9], posterior: [5: 1])
        let json = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(e)) as! [String: Any]
        let features = try XCTUnwrap(json["features"] as? [String: Any])
        XCTAssertEqual(Set(features.keys), Set(SuspicionFeature.allCases.map(\.rawValue)))
        XCTAssertTrue(features["thoracolumbar_entropy"] is NSNull)
        XCTAssertEqual(try JSONDecoder().decode(SuspicionEvidence.self, from: try JSONEncoder().encode(e)), e)
    }
}

final class SuspicionCalibrationTests: XCTestCase {
    func testReadFromModelMetadata() throws {
        let text = #"{"features": {"thoracolumbar_entropy": {"median": 5.06, "sd": 0.2}}, "ladder_term": 2, "thresholds": {"high": 4, "medium": 2}, "provenance": "63 normal slices"}"#
        let c = try XCTUnwrap(try SuspicionCalibration.from(metadata: ["suspicion": text]))
        XCTAssertEqual(c.features[.thoracolumbarEntropy], NormalRange(median: 5.06, sd: 0.2))
        XCTAssertNil(c.features[.lumbosacralSpan])
        XCTAssertEqual(c.thresholds, RiskThresholds(high: 4, medium: 2))
        XCTAssertNil(try SuspicionCalibration.from(metadata: [:]))
    }

    func testMalformedCalibrationFailsNamingTheKey() {
        for bad in [#"{"features": {}}"#,
                    #"{"features": {"thoracolumbar_entropy": {"median": 5, "sd": 0}}, "ladder_term": 2, "thresholds": {"high": 4, "medium": 2}, "provenance": ""}"#,
                    #"{"features": {}, "ladder_term": 2, "thresholds": {"high": 1, "medium": 2}, "provenance": ""}"#] {
            XCTAssertThrowsError(try SuspicionCalibration.from(metadata: ["suspicion": bad])) { error in
                XCTAssertTrue("\(error)".contains("'suspicion'"), "\(error)")
            }
        }
    }
}

final class SuspicionEvidenceTests: XCTestCase {
    static let size = 160
    static let classes = ["background", "L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1", "T12/L1", "L1", "L2", "L3", "L4", "L5", "S1"]

    /// Softmax-like maps with one square blob of probability 0.9 (side `side`) per ladder rung at
    /// row 20 + 10 * half step, column 80; `extra` adds a second blob to a class.
    func maps(side: [String: Int] = [:], rowOffset: [String: Double] = [:], extra: (String, Int, Int)? = nil) -> [Float] {
        let n = Self.size * Self.size
        var p = [Float](repeating: 0, count: Self.classes.count * n)
        func blob(_ c: Int, _ r0: Int, _ c0: Int, _ s: Int) {
            for r in (r0 - s / 2)..<(r0 - s / 2 + s) { for col in (c0 - s / 2)..<(c0 - s / 2 + s) { p[c * n + r * Self.size + col] = 0.9 } }
        }
        for rung in LadderRung.allCases {
            let c = Self.classes.firstIndex(of: rung.className)!
            blob(c, 20 + 10 * rung.halfStep + Int(rowOffset[rung.className] ?? 0), 80, side[rung.className] ?? 5)
        }
        if let (name, r, col) = extra { blob(Self.classes.firstIndex(of: name)!, r, col, 5) }
        return p
    }

    func measure(_ p: [Float]) throws -> SuspicionEvidence {
        try SuspicionEvidence.measure(probabilities: p[...], classes: Self.classes, rows: Self.size, columns: Self.size)
    }

    func testRegularLadder() throws {
        let e = try measure(maps())
        XCTAssertEqual(try XCTUnwrap(e.levelStep), 20, accuracy: 1e-9)
        XCTAssertTrue(e.thoracolumbarInView)
        XCTAssertTrue(e.sacrumInView)
        XCTAssertEqual(try XCTUnwrap(e.values[.lumbosacralSpan]), 1, accuracy: 1e-9)   // L5→S1 and L4→L5: two half steps each
        XCTAssertEqual(try XCTUnwrap(e.values[.lowestDiscSpacing]), 1, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(e.values[.lowestDiscExtent]), 1, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(e.values[.assignmentAmbiguity]), 0, accuracy: 1e-9)  // every map on its own rung
        XCTAssertNil(e.values[.countShift])  // no locator
    }

    func testThinnedLowestDisc() throws {
        // The L5 body 4 px lower (toward a thinner L5/S1), the L5/S1 map smaller.
        let e = try measure(maps(side: ["L5/S1": 3], rowOffset: ["L5": 4]))
        XCTAssertEqual(try XCTUnwrap(e.values[.lowestDiscExtent]), 9.0 / 25.0, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(e.values[.lumbosacralSpan]), 16.0 / 24.0, accuracy: 1e-9)
    }

    func testAMapOnTwoStructuresIsOffLevel() throws {
        let e = try measure(maps(extra: ("T12/L1", 100, 80)))
        // The map sits on two structures 80 px apart: its reference point lies between them, so all
        // of its probability is off the level.
        XCTAssertEqual(try XCTUnwrap(e.values[.thoracolumbarOffLevel]), 1, accuracy: 1e-9)
        XCTAssertGreaterThan(try XCTUnwrap(e.values[.thoracolumbarEntropy]), try measure(maps()).values[.thoracolumbarEntropy]!)
    }

    func testThoracolumbarJunctionAtTheImageEdgeLeavesTheCountUndetermined() throws {
        // The whole ladder 18 px higher: T12/L1 at row 2, the level above it outside the image.
        let e = try measure(maps(rowOffset: Dictionary(uniqueKeysWithValues: LadderRung.allCases.map { ($0.className, -18.0) })))
        XCTAssertFalse(e.thoracolumbarInView)
        XCTAssertNotNil(e.values[.thoracolumbarEntropy])
        XCTAssertTrue(try measure(maps()).thoracolumbarInView)  // T12/L1 at row 20, one step (20 px) above in view
    }

    func testSacrumOutOfView() throws {
        var p = maps()
        let n = Self.size * Self.size, c = Self.classes.firstIndex(of: "S1")!
        for i in (c * n)..<((c + 1) * n) { p[i] = 0 }
        let e = try measure(p)
        XCTAssertFalse(e.sacrumInView)
        XCTAssertNil(e.values[.lumbosacralSpan])
    }
}

final class BilinearResampleTests: XCTestCase {
    func testIdentityAndShift() {
        let img: [UInt8] = (0..<16).map { UInt8($0 * 10) }
        XCTAssertEqual(BilinearResample.resample(img, rows: 4, columns: 4, outRows: 4, outColumns: 4) { PixelPoint(row: $0, column: $1) }, img)
        // Half a pixel to the right: the mean of neighbours; black beyond the edge.
        let shifted = BilinearResample.resample(img, rows: 4, columns: 4, outRows: 1, outColumns: 4) { PixelPoint(row: $0, column: $1 + 0.5) }
        XCTAssertEqual(shifted, [5, 15, 25, 15])
    }

    func testLocatorWindowGeometryRoundTrips() {
        let g = ThoracolumbarLocator.Geometry(center: PixelPoint(row: 40, column: 80), scale: 96 / (4 * 17.0), half: 47.5)
        let w = g.toWindow(PixelPoint(row: 57, column: 80))
        XCTAssertEqual(w.row, 47.5 + 24, accuracy: 1e-9)  // one step below the centre: a quarter of the window
        let back = g.toGrid(row: w.row, column: w.column)
        XCTAssertEqual(back.row, 57, accuracy: 1e-9)
        XCTAssertEqual(back.column, 80, accuracy: 1e-9)
    }
}
