import DICOM
import XCTest
@testable import Node

final class OutboxPolicyTests: XCTestCase {
    func testBackoffDoublesUpToTheMaximumWithJitterInTheUpperHalf() {
        XCTAssertEqual(OutboxSender.backoff(attempt: 1, initial: 5, max: 600, random: { 0 }), 2.5)
        XCTAssertEqual(OutboxSender.backoff(attempt: 1, initial: 5, max: 600, random: { 0.999 }), 5, accuracy: 0.01)
        XCTAssertEqual(OutboxSender.backoff(attempt: 3, initial: 5, max: 600, random: { 1 }), 20)
        XCTAssertEqual(OutboxSender.backoff(attempt: 20, initial: 5, max: 600, random: { 1 }), 600)
        XCTAssertEqual(OutboxSender.backoff(attempt: 20, initial: 5, max: 600, random: { 0 }), 300)
        for _ in 0..<100 {
            let b = OutboxSender.backoff(attempt: 4, initial: 1, max: 600)
            XCTAssertTrue((4...8).contains(b), "\(b)")
        }
    }

    func testWhichRefusalsArePermanent() {
        for s: UInt16 in [0x0122, 0xA900, 0xA950, 0xC000, 0xC211, 0x0117] {
            XCTAssertTrue(OutboxSender.isPermanent(DIMSEStatus(rawValue: s)), String(s, radix: 16))
        }
        for s: UInt16 in [0xA700, 0xA7FF, 0x0110, 0x0213] {
            XCTAssertFalse(OutboxSender.isPermanent(DIMSEStatus(rawValue: s)), String(s, radix: 16))
        }
    }
}
