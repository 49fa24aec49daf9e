import Hummingbird

/// Lets a request through when its bearer token (`Authorization: Bearer …`) or its session cookie
/// is known and its role is at least `minimum`. The API answers 401 without either, 403 with too
/// small a role; pages send the browser to `/login` (303) instead of the 401. A POST made with a
/// session must carry the session's CSRF token: pages in the form's `csrf` field (the form is read
/// here, into the context), scripts in the `X-CSRF-Token` header. Tokens never reach a log.
struct Authenticator: RouterMiddleware {
    typealias Context = WebContext
    enum Audience { case api, pages }

    let tokens: TokenStore
    let sessions: SessionStore
    let minimum: Role
    var audience: Audience = .api
    /// The largest page form read.
    static let maxForm = 64 * 1024

    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        var context = context
        var request = request
        if let header = request.headers[.authorization] {
            guard header.hasPrefix("Bearer "),
                  let identity = tokens.identity(bearer: String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)) else {
                return try unauthenticated()
            }
            context.identity = identity
        } else if let cookie = request.headers[.cookie], let id = SessionCookie.parse(cookie)[SessionCookie.name],
                  let session = sessions.session(id: id) {
            context.identity = session.identity
            context.session = session
        } else {
            return try unauthenticated()
        }
        guard let identity = context.identity, identity.role >= minimum else {
            let who = context.identity.map { "'\($0.name)' is a \($0.role.rawValue)" } ?? "unknown"
            return try forbidden("\(who); this needs \(minimum.rawValue)", context: context)
        }
        if request.method == .post, audience == .pages {
            let body = try await request.body.collect(upTo: Self.maxForm)
            context.form = FormBody.parse(String(buffer: body))
            request.body = .init(buffer: body)
        }
        if request.method != .get, request.method != .head, let session = context.session {
            let presented = audience == .pages ? context.form[CSRF.field] : request.headers[HTTPFields.Element.Name(CSRF.header)!]
            guard CSRF.check(presented, session: session) else {
                return try forbidden("the request lacks this session's CSRF token", context: context)
            }
        }
        return try await next(request, context)
    }

    /// 403: a page for a browser, a problem document for a script.
    func forbidden(_ message: String, context: WebContext) throws -> Response {
        switch audience {
        case .pages:
            return PageLayout.response(ProblemPage.template, ProblemPage(message: message), title: "Not allowed",
                                       viewer: context.viewer, status: .forbidden)
        case .api:
            return try JSONBody.problem(.forbidden, message)
        }
    }

    func unauthenticated() throws -> Response {
        switch audience {
        case .pages:
            return Response(status: .seeOther, headers: [.location: "/login"])
        case .api:
            var headers = HTTPFields()
            headers[.wwwAuthenticate] = "Bearer realm=\"lstv-node\""
            return try JSONBody.problem(.unauthorized, "a bearer token or a session is required", headers: headers)
        }
    }
}
