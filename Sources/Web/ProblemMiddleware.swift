import Hummingbird

/// Every error a handler throws leaves as the API's one error body, `{"error": …, "status": …}`:
/// an `HTTPError` with its status and message (and headers), anything else as a 500 that names no
/// internals.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = WebContext

    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            return try JSONBody.problem(error.status, error.body ?? error.status.reasonPhrase, headers: error.headers)
        } catch {
            context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return try JSONBody.problem(.internalServerError, "internal error; see the node's log")
        }
    }
}
