import Hummingbird

/// The request context: Hummingbird's core storage, who is calling once `Authenticator` let the
/// request through, the session when that was by cookie, and a page form's fields once checked.
public struct WebContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Identity?
    public var session: Session?
    public var form: [String: String] = [:]

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
        session = nil
    }
}
