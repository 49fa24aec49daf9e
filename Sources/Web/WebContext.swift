import Hummingbird

/// The request context: Hummingbird's core storage, and who is calling once `Authenticator` let the
/// request through.
public struct WebContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Identity?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
    }
}
