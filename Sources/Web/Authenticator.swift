import Hummingbird

/// Lets a request through when its bearer token (`Authorization: Bearer …`) is known and its role
/// is at least `minimum`: 401 without a known token, 403 with too small a role. The token never
/// reaches a log.
struct Authenticator: RouterMiddleware {
    typealias Context = WebContext
    let tokens: TokenStore
    let minimum: Role

    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
              let identity = tokens.identity(bearer: String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)) else {
            var headers = HTTPFields()
            headers[.wwwAuthenticate] = "Bearer realm=\"lstv-node\""
            return try JSONBody.problem(.unauthorized, "a bearer token is required", headers: headers)
        }
        guard identity.role >= minimum else {
            return try JSONBody.problem(.forbidden, "the token '\(identity.name)' is a \(identity.role.rawValue); this needs \(minimum.rawValue)")
        }
        var context = context
        context.identity = identity
        return try await next(request, context)
    }
}
