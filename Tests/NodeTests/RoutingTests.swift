import Records
import Store
import XCTest
@testable import Node

final class RoutingTests: XCTestCase {
    let router = try! RoutingConfiguration.default.compiled()

    func sagittalT2() -> SeriesDescriptors {
        SeriesDescriptors(modality: "MR", seriesDescription: "T2_TSE_SAG", imageType: ["ORIGINAL", "PRIMARY"],
                          imageOrientationPatient: [0, 1, 0, 0, 0, -1], echoTime: 96, repetitionTime: 3500, sliceThickness: 4)
    }

    func testSagittalT2GoesToLocalizer() {
        let (route, reason) = router.route(sagittalT2())
        XCTAssertEqual(route, .localizer)
        XCTAssertEqual(reason, "matched rule sagittal-t2-spine")
    }

    func testAxialIsIgnoredWithThePlaneAsReason() {
        var d = sagittalT2()
        d.imageOrientationPatient = [1, 0, 0, 0, 1, 0]
        let (route, reason) = router.route(d)
        XCTAssertEqual(route, .ignored)
        XCTAssertTrue(reason.contains("plane is axial, not sagittal"), reason)
    }

    func testEachConditionCanExclude() {
        var t1 = sagittalT2(); t1.seriesDescription = "T1_TSE_SAG"; t1.echoTime = 12
        XCTAssertEqual(router.route(t1).0, .ignored)
        XCTAssertTrue(router.route(t1).1.contains("does not match"))
        var stir = sagittalT2(); stir.seriesDescription = "T2 STIR SAG"
        XCTAssertTrue(router.route(stir).1.contains("exclusion"))
        var loc = sagittalT2(); loc.imageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
        XCTAssertTrue(router.route(loc).1.contains("image type contains LOCALIZER"))
        var ct = sagittalT2(); ct.modality = "CT"
        XCTAssertTrue(router.route(ct).1.contains("modality is CT"))
        var shortTE = sagittalT2(); shortTE.echoTime = 15
        XCTAssertTrue(router.route(shortTE).1.contains("echo time 15.0 outside"))
        var thick = sagittalT2(); thick.sliceThickness = 8
        XCTAssertTrue(router.route(thick).1.contains("slice thickness"))
    }

    func testMissingNumericAttributesDoNotExclude() {
        var d = sagittalT2(); d.echoTime = nil; d.repetitionTime = nil; d.sliceThickness = nil
        XCTAssertEqual(router.route(d).0, .localizer)
    }

    func testProtocolNameCountsAsText() {
        var d = sagittalT2(); d.seriesDescription = "SAG"; d.protocolName = "t2_tse_sag_384"
        XCTAssertEqual(router.route(d).0, .localizer)
    }

    func testMissingOrientationIsUnknownPlane() {
        var d = sagittalT2(); d.imageOrientationPatient = nil
        XCTAssertTrue(router.route(d).1.contains("plane is unknown"))
    }

    func testPlaneFromOrientation() {
        XCTAssertEqual(Router.plane(of: [0, 1, 0, 0, 0, -1]), .sagittal)
        XCTAssertEqual(Router.plane(of: [1, 0, 0, 0, 1, 0]), .axial)
        XCTAssertEqual(Router.plane(of: [1, 0, 0, 0, 0, -1]), .coronal)
        // 20° oblique sagittal is still sagittal.
        let c = cos(20 * Double.pi / 180), s = sin(20 * Double.pi / 180)
        XCTAssertEqual(Router.plane(of: [s, c, 0, 0, 0, -1]), .sagittal)
        XCTAssertNil(Router.plane(of: [1, 0, 0]))
    }

    func testRulesAreOrderedAndFirstMatchWins() throws {
        let config = RoutingConfiguration(rules: [
            RoutingRule(name: "no-research", route: .ignored, seriesDescription: "(?i)research"),
            RoutingRule(name: "any-mr", route: .localizer, modality: ["MR"]),
        ])
        let r = try config.compiled()
        var d = sagittalT2(); d.seriesDescription = "RESEARCH T2"
        XCTAssertEqual(r.route(d).0, .ignored)
        XCTAssertEqual(r.route(d).1, "matched rule no-research")
        XCTAssertEqual(r.route(sagittalT2()).0, .localizer)
    }

    func testInvalidRegexIsAConfigurationError() {
        let config = RoutingConfiguration(rules: [RoutingRule(name: "bad", route: .localizer, seriesText: "(")])
        XCTAssertThrowsError(try config.compiled()) { error in
            XCTAssertTrue("\(error)".contains("bad"), "\(error)")
        }
    }
}
