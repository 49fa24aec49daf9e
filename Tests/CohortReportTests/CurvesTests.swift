import XCTest
@testable import CohortReport

final class CurvesTests: XCTestCase {
    func samples(_ pairs: [(Double, Bool)]) -> [LabelledScore] { pairs.map { LabelledScore(score: $0.0, positive: $0.1) } }

    func testKnownExample() throws {
        // scikit-learn's documented example: roc_auc_score 0.75, average_precision_score 0.8333.
        let s = samples([(0.1, false), (0.4, false), (0.35, true), (0.8, true)])
        let roc = try XCTUnwrap(Curves.roc(s))
        XCTAssertEqual(roc.auc, 0.75, accuracy: 1e-12)
        XCTAssertEqual(roc.points.first, ROCPoint(falsePositiveRate: 0, truePositiveRate: 0))
        XCTAssertEqual(roc.points.last, ROCPoint(falsePositiveRate: 1, truePositiveRate: 1))
        let pr = try XCTUnwrap(Curves.precisionRecall(s))
        XCTAssertEqual(pr.averagePrecision, 5.0 / 6.0, accuracy: 1e-12)
        XCTAssertEqual(pr.points.first, PRPoint(recall: 0, precision: 1))
    }

    func testSeparationAndTies() throws {
        let perfect = samples([(3, true), (2, true), (1, false), (0, false)])
        XCTAssertEqual(try XCTUnwrap(Curves.roc(perfect)).auc, 1)
        XCTAssertEqual(try XCTUnwrap(Curves.precisionRecall(perfect)).averagePrecision, 1)
        let reversed = samples([(0, true), (1, true), (2, false), (3, false)])
        XCTAssertEqual(try XCTUnwrap(Curves.roc(reversed)).auc, 0)
        // All tied: one step from (0,0) to (1,1), whatever the order.
        let tied = samples([(1, true), (1, false), (1, false), (1, true)])
        let roc = try XCTUnwrap(Curves.roc(tied))
        XCTAssertEqual(roc.auc, 0.5)
        XCTAssertEqual(roc.points.count, 2)
        // An unusable map (infinite suspicion) ranks first.
        XCTAssertEqual(try XCTUnwrap(Curves.roc(samples([(.infinity, true), (5, false)]))).auc, 1)
    }

    func testOneClassHasNoROC() {
        XCTAssertNil(Curves.roc(samples([(1, true), (2, true)])))
        XCTAssertNil(Curves.roc(samples([(1, false)])))
        XCTAssertNil(Curves.precisionRecall(samples([(1, false)])))
        XCTAssertNotNil(Curves.precisionRecall(samples([(1, true)])))
    }

    func testOperatingPointIsAboveTheThreshold() {
        // Exactly at the threshold is medium, not high: not called positive.
        let op = OperatingPoint(threshold: 4.96, samples: samples([(6, true), (4.96, true), (5, false), (1, false), (.infinity, false)]))
        XCTAssertEqual([op.truePositives, op.falsePositives, op.falseNegatives, op.trueNegatives], [1, 2, 1, 1])
        XCTAssertEqual(op.sensitivity, 0.5)
        XCTAssertEqual(try XCTUnwrap(op.falsePositiveRate), 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(op.ppv), 1.0 / 3.0, accuracy: 1e-12)
        XCTAssertNil(OperatingPoint(threshold: 1, samples: []).ppv)
    }
}
