import Foundation
@testable import Web
import XCTest

final class SessionTests: XCTestCase {
    let ward = Identity(name: "ward", role: .viewer)

    func testSessionsAreRandomAndEndAtTheirExpiry() {
        let store = SessionStore(lifetime: 60)
        let now = Date()
        let a = store.create(for: ward, now: now), b = store.create(for: ward, now: now)
        XCTAssertNotEqual(a.id, b.id)
        XCTAssertNotEqual(a.id, a.csrfToken)
        XCTAssertEqual(a.id.count, 64, "256 bits as hex")
        XCTAssertTrue(a.id.allSatisfy(\.isHexDigit))
        XCTAssertEqual(store.session(id: a.id, now: now + 59)?.identity, ward)
        XCTAssertNil(store.session(id: a.id, now: now + 60), "expired")
        XCTAssertNil(store.session(id: a.id, now: now), "an expired session is gone for good")
        XCTAssertNil(store.session(id: "nonsense"))
        store.end(id: b.id)
        XCTAssertNil(store.session(id: b.id, now: now))
    }

    func testCookieHeaderIsParsed() {
        XCTAssertEqual(SessionCookie.parse("a=1; lstv_session=abc; b=\"q\""), ["a": "1", "lstv_session": "abc", "b": "q"])
        XCTAssertEqual(SessionCookie.parse("lstv_session=first; lstv_session=second")["lstv_session"], "first")
        XCTAssertEqual(SessionCookie.parse(";;  =x; novalue; c=d=e"), ["c": "d=e"])
        XCTAssertEqual(SessionCookie.parse(""), [:])
    }

    func testSessionCookieAttributes() {
        let s = SessionStore().create(for: ward)
        let cookie = SessionCookie.set(s, maxAge: 43200, secure: false)
        XCTAssertEqual(cookie, "lstv_session=\(s.id); Max-Age=43200; Path=/; HttpOnly; SameSite=Strict")
        XCTAssertTrue(SessionCookie.set(s, maxAge: 1, secure: true).hasSuffix("; Secure"))
        XCTAssertEqual(SessionCookie.clear(secure: false), "lstv_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict")
    }

    func testCSRFTokenMustMatchTheSession() {
        let store = SessionStore()
        let s = store.create(for: ward), other = store.create(for: ward)
        XCTAssertTrue(CSRF.check(s.csrfToken, session: s))
        XCTAssertFalse(CSRF.check(other.csrfToken, session: s))
        XCTAssertFalse(CSRF.check(nil, session: s))
        XCTAssertFalse(CSRF.check("", session: s))
        XCTAssertFalse(CSRF.check(String(s.csrfToken.dropLast()), session: s))
    }

    func testFormBodiesAndReturnPaths() {
        XCTAssertEqual(FormBody.parse("csrf=ab%2Fc&return=%2Fseries%2F1.2&token=a+b&empty="),
                       ["csrf": "ab/c", "return": "/series/1.2", "token": "a b", "empty": ""])
        XCTAssertEqual(FormBody.parse("bad=%zz"), ["bad": ""])
        XCTAssertEqual(Dashboard.returnPath("/series/1.2.3"), "/series/1.2.3")
        XCTAssertEqual(Dashboard.returnPath("//evil.example/"), "/outbox")
        XCTAssertEqual(Dashboard.returnPath("https://evil.example/"), "/outbox")
        XCTAssertEqual(Dashboard.returnPath("/a\r\nSet-Cookie: x"), "/outbox")
        XCTAssertEqual(Dashboard.returnPath(nil), "/outbox")
    }

    func testWorklistFilterIsCheckedAndKeptInPagingLinks() throws {
        let f = try WorklistPage.Filter(risk: "high", since: "2026-01-31", offset: "50")
        XCTAssertEqual(f.risk, .high)
        XCTAssertEqual(f.query(offset: 100), "/?risk=high&since=2026-01-31&offset=100")
        XCTAssertNil(try WorklistPage.Filter(risk: "", since: "", offset: nil).risk)
        XCTAssertThrowsError(try WorklistPage.Filter(risk: "severe", since: nil, offset: nil))
        XCTAssertThrowsError(try WorklistPage.Filter(risk: nil, since: "yesterday", offset: nil))
        XCTAssertThrowsError(try WorklistPage.Filter(risk: nil, since: nil, offset: "-1"))
    }
}
