import XCTest
@testable import Store

final class TimestampTests: XCTestCase {
    /// The node's one UTC formatter, in its three forms, and the libpq form read back.
    func testFormatsAndRoundTrip() {
        let d = Date(timeIntervalSince1970: 1_700_000_000.1234567)  // 2023-11-14 22:13:20 UTC
        XCTAssertEqual(Timestamp.format(d), "2023-11-14 22:13:20.123457+00")
        XCTAssertEqual(Timestamp.iso8601(d), "2023-11-14T22:13:20Z")
        XCTAssertEqual(Timestamp.log(d), "2023-11-14T22:13:20.123Z")
        XCTAssertEqual(Timestamp.parse(Timestamp.format(d))!.timeIntervalSince1970, d.timeIntervalSince1970, accuracy: 1e-6)
        // A fraction that rounds up to a whole second stays inside the second (never ".1000000").
        XCTAssertEqual(Timestamp.format(Date(timeIntervalSince1970: 0.9999999)), "1970-01-01 00:00:00.999999+00")
        XCTAssertEqual(Timestamp.log(Date(timeIntervalSince1970: 0.9999)), "1970-01-01T00:00:00.999Z")
    }
}
