import Foundation
import XCTest

/// Polls `condition` until it holds, for at most `timeout` seconds; a condition that never holds
/// fails the test, naming `what`. The tests' one way to wait: for a state, never for a time.
@discardableResult
public func waitUntil(_ what: @autoclosure () -> String, timeout: TimeInterval = 10,
                      file: StaticString = #filePath, line: UInt = #line, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        if try condition() { return true }
        if Date() >= deadline {
            XCTFail("waited \(timeout) s for \(what())", file: file, line: line)
            return false
        }
        usleep(10_000)
    }
}
