@testable import Cohort
import XCTest

final class ROCTests: XCTestCase {
    /// scikit-learn's documented example: roc_auc_score 0.75, average_precision_score 0.8333….
    func testPublishedExample() throws {
        let scores = [0.1, 0.4, 0.35, 0.8], labels = [false, false, true, true]
        XCTAssertEqual(try XCTUnwrap(ROC.auc(scores: scores, labels: labels)), 0.75, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(ROC.averagePrecision(scores: scores, labels: labels)), 0.8333333333333333, accuracy: 1e-12)
    }

    /// Ties count half: one positive and one negative at the same score is a coin toss.
    func testTiesCountHalf() throws {
        XCTAssertEqual(ROC.auc(scores: [1, 1], labels: [true, false]), 0.5)
        XCTAssertEqual(ROC.auc(scores: [2, 1, 1, 0], labels: [true, true, false, false]), 0.875)
        // Average precision over a tied group: one step at its precision (1 of 2).
        XCTAssertEqual(ROC.averagePrecision(scores: [1, 1], labels: [true, false]), 0.5)
    }

    func testUndefinedWithOneClass() {
        XCTAssertNil(ROC.auc(scores: [1, 2], labels: [true, true]))
        XCTAssertNil(ROC.averagePrecision(scores: [1, 2], labels: [false, false]))
        XCTAssertNil(ROC.bootstrapInterval(scores: [1, 2], labels: [true, true], seed: 1, ROC.auc))
    }

    /// The curve starts at (0, 0), ends at (1, 1), one point per distinct score.
    func testCurve() {
        let c = ROC.curve(scores: [0.9, 0.5, 0.5, 0.1], labels: [true, false, true, false])
        XCTAssertEqual(c.map(\.falsePositiveRate), [0, 0, 0.5, 1])
        XCTAssertEqual(c.map(\.truePositiveRate), [0, 0.5, 1, 1])
        XCTAssertEqual(c[2].precision, 2.0 / 3.0)
    }

    /// The same seed gives the same interval; another seed another.
    func testBootstrapIsSeeded() throws {
        var rng = SeededRandom(seed: 4)
        let labels = (0..<60).map { _ in Double(rng.next() % 100) < 35 }
        let scores = labels.map { ($0 ? 1.0 : 0.0) + Double(rng.next() % 1000) / 500 }
        let a = try XCTUnwrap(ROC.bootstrapInterval(scores: scores, labels: labels, replicates: 500, seed: 9, ROC.auc))
        let b = try XCTUnwrap(ROC.bootstrapInterval(scores: scores, labels: labels, replicates: 500, seed: 9, ROC.auc))
        let c = try XCTUnwrap(ROC.bootstrapInterval(scores: scores, labels: labels, replicates: 500, seed: 10, ROC.auc))
        XCTAssertEqual(a.low, b.low); XCTAssertEqual(a.high, b.high)
        XCTAssertNotEqual(a.low, c.low)
        let auc = try XCTUnwrap(ROC.auc(scores: scores, labels: labels))
        XCTAssertLessThan(a.low, auc); XCTAssertGreaterThan(a.high, auc)
    }

    func testPercentileInterpolates() {
        XCTAssertEqual(ROC.percentile([1, 2, 3, 4], 0.5), 2.5)
        XCTAssertEqual(ROC.percentile([1, 2, 3, 4], 0), 1)
        XCTAssertEqual(ROC.percentile([1, 2, 3, 4], 1), 4)
    }
}
