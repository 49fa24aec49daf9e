import Cohort
import CohortReport
import Foundation
import Hummingbird
import Logging
import Store

/// The dashboard's pages: sign-in and sign-out, the worklist, a series, the outbox, the upload
/// page and the cohort report. Server-rendered HTML; signed in by session cookie or bearer token;
/// unauthenticated requests go to `/login`. Only UIDs and numbers appear in URLs.
struct Dashboard {
    let database: Database
    let tokens: TokenStore
    let sessions: SessionStore
    let logger: Logger
    let audit: WebAudit
    /// The session cookie is `Secure` when the node serves HTTPS.
    var secureCookies = false

    var pipeline: Pipeline { Pipeline(database: database) }

    func add(to router: Router<WebContext>) {
        router.get("login", use: loginForm)
        router.post("login", use: login)
        let pages = router.group().add(middleware: Authenticator(tokens: tokens, sessions: sessions, minimum: .viewer, audience: .pages))
        pages.post("logout", use: logout)
        pages.get("/", use: page(worklist))
        pages.get("series/{uid}", use: page(series))
        pages.get("outbox", use: page(outbox))
        pages.get("upload", use: page(upload))
        pages.get("report", use: page(report))
        router.group("deliveries").add(middleware: Authenticator(tokens: tokens, sessions: sessions, minimum: .admin, audience: .pages))
            .post("{id}/retry", use: page(retry))
    }

    /// A page handler whose refusals (`PageError`, database errors) become an error page with the
    /// right status instead of a bare error.
    func page(_ handler: @escaping @Sendable (Request, WebContext) async throws -> Response) -> @Sendable (Request, WebContext) async throws -> Response {
        { [logger] request, context in
            do { return try await handler(request, context) } catch let error as PageError {
                let (status, message): (HTTPResponse.Status, String)
                switch error {
                case .badRequest(let m): (status, message) = (.badRequest, m)
                case .notFound(let m): (status, message) = (.notFound, m)
                case .conflict(let m): (status, message) = (.conflict, m)
                }
                return PageLayout.response(ProblemPage.template, ProblemPage(message: message), title: "Error", viewer: context.viewer, status: status)
            } catch let error as StoreError {
                logger.error("page failed on the database", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
                return PageLayout.response(ProblemPage.template, ProblemPage(message: "The database cannot be read: \(error)"),
                                           title: "Error", viewer: context.viewer, status: .serviceUnavailable)
            } catch let error as HTTPError {
                throw error
            } catch {
                logger.error("page failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
                return PageLayout.response(ProblemPage.template, ProblemPage(message: "This page cannot be made: \(error)"),
                                           title: "Error", viewer: context.viewer, status: .internalServerError)
            }
        }
    }

    @Sendable func loginForm(_ request: Request, _ context: WebContext) async throws -> Response {
        PageLayout.response(LoginPage.template, LoginPage(problem: nil), title: "Sign in", viewer: nil)
    }

    @Sendable func login(_ request: Request, _ context: WebContext) async throws -> Response {
        let form = FormBody.parse(String(buffer: try await request.body.collect(upTo: Authenticator.maxForm)))
        guard let token = form["token"]?.trimmingCharacters(in: .whitespaces), !token.isEmpty,
              let identity = tokens.identity(bearer: token) else {
            audit.signInRefused()
            return PageLayout.response(LoginPage.template, LoginPage(problem: "This token is not known."), title: "Sign in",
                                       viewer: nil, status: .unauthorized)
        }
        let session = sessions.create(for: identity)
        audit.signedIn(identity)
        logger.info("signed in", metadata: ["token": "\(identity.name)", "role": "\(identity.role.rawValue)"])
        return Response(status: .seeOther, headers: [.location: "/",
                                                     .setCookie: SessionCookie.set(session, maxAge: Int(sessions.lifetime), secure: secureCookies)])
    }

    @Sendable func logout(_ request: Request, _ context: WebContext) async throws -> Response {
        if let session = context.session { sessions.end(id: session.id) }
        audit.signedOut(context.identity)
        return Response(status: .seeOther, headers: [.location: "/login", .setCookie: SessionCookie.clear(secure: secureCookies)])
    }

    @Sendable func worklist(_ request: Request, _ context: WebContext) async throws -> Response {
        let q = request.uri.queryParameters
        let filter = try WorklistPage.Filter(risk: q.get("risk"), since: q.get("since"), offset: q.get("offset"))
        return PageLayout.response(WorklistPage.template, try WorklistPage.load(pipeline: pipeline, filter: filter), title: "Worklist", viewer: context.viewer)
    }

    @Sendable func series(_ request: Request, _ context: WebContext) async throws -> Response {
        let uid = try context.parameters.require("uid")
        guard uid.count <= 64, uid.allSatisfy({ $0.isNumber || $0 == "." }) else { throw PageError.badRequest("A series UID is digits and dots.") }
        let page = try SeriesPage.load(database: database, uid: uid, admin: context.identity?.role == .admin, csrf: context.session?.csrfToken)
        return PageLayout.response(SeriesPage.template, page, title: "Series", viewer: context.viewer)
    }

    @Sendable func outbox(_ request: Request, _ context: WebContext) async throws -> Response {
        let page = OutboxPage(try pipeline.outbox(), admin: context.identity?.role == .admin, csrf: context.session?.csrfToken)
        return PageLayout.response(OutboxPage.template, page, title: "Outbox", viewer: context.viewer)
    }

    @Sendable func upload(_ request: Request, _ context: WebContext) async throws -> Response {
        guard let session = context.session else {
            throw PageError.badRequest("Uploading from this page needs a signed-in session (sign in at /login); scripts use STOW-RS directly.")
        }
        return PageLayout.response(UploadPage.template, UploadPage(csrf: session.csrfToken), title: "Upload", viewer: context.viewer)
    }

    @Sendable func report(_ request: Request, _ context: WebContext) async throws -> Response {
        let cases = try CohortSource.load(database: database, since: nil)
        return PageLayout.html(try CohortReport(cases: cases, source: "this node's database").render().html)
    }

    @Sendable func retry(_ request: Request, _ context: WebContext) async throws -> Response {
        guard let id = Int64(try context.parameters.require("id")) else { throw PageError.badRequest("A delivery id is a number.") }
        guard try pipeline.outbox().contains(where: { $0.id == id }) else { throw PageError.notFound("No delivery \(id).") }
        guard try pipeline.retry(outboxID: id, now: Date()) else {
            throw PageError.conflict("Delivery \(id) is sending or sent; only dead or waiting deliveries are retried.")
        }
        audit.retried(delivery: id, by: context.identity, via: "dashboard")
        logger.info("delivery retried from the dashboard", metadata: ["outbox_id": "\(id)", "token": "\(context.identity?.name ?? "?")"])
        return Response(status: .seeOther, headers: [.location: Self.returnPath(context.form["return"])])
    }

    /// Where a form sends the browser back: a local path only (never another site), else the outbox.
    static func returnPath(_ value: String?) -> String {
        guard let v = value, v.hasPrefix("/"), !v.hasPrefix("//"), !v.contains("\\"),
              v.allSatisfy({ $0.isASCII && !$0.isWhitespace && !$0.isNewline }) else { return "/outbox" }
        return v
    }
}

extension WebContext {
    /// Who the page's frame names as signed in.
    var viewer: PageLayout.Viewer? { identity.map { PageLayout.Viewer(name: $0.name, role: $0.role, csrf: session?.csrfToken) } }
}
