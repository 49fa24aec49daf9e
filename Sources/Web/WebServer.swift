import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOSSL
import Prometheus
import ServiceLifecycle
import Store

/// The node's HTTP server (Hummingbird 2; HTTPS through swift-nio-ssl when given a certificate) on
/// its own event loops, started and stopped by the node's threads: `/healthz`, `/readyz`, `/metrics` without a token; `/api/v1`, `/dicomweb` (STOW, QIDO,
/// WADO, rendered) and the dashboard's pages with a token or a signed-in session.
public final class WebServer: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var tokens: TokenStore
        /// The largest STOW-RS body taken, in bytes.
        public var maxUploadBytes: Int
        /// HTTPS: PEM files; nil serves plain HTTP.
        public var tls: TLSFiles?
        public init(host: String, port: Int, tokens: TokenStore, maxUploadBytes: Int, tls: TLSFiles? = nil) {
            self.host = host; self.port = port; self.tokens = tokens; self.maxUploadBytes = maxUploadBytes; self.tls = tls
        }
    }

    /// A certificate chain and its private key, PEM, as `http.tls` names them.
    public struct TLSFiles: Sendable {
        public var certificate: String
        public var privateKey: String
        public init(certificate: String, privateKey: String) { self.certificate = certificate; self.privateKey = privateKey }

        /// TLS 1.2 or later (BCP 195), the certificate checked against its key before the port is
        /// bound, so a wrong pair stops the start instead of failing every handshake.
        func serverConfiguration() throws -> TLSConfiguration {
            let chain: [NIOSSLCertificate]
            do { chain = try NIOSSLCertificate.fromPEMFile(certificate) } catch {
                throw WebError("http.tls.certificate: cannot load \(certificate): \(error)")
            }
            guard !chain.isEmpty else { throw WebError("http.tls.certificate: \(certificate) holds no certificate") }
            let key: NIOSSLPrivateKey
            do { key = try NIOSSLPrivateKey(file: privateKey, format: .pem) } catch {
                throw WebError("http.tls.private_key: cannot load \(privateKey): \(error)")
            }
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            tls.minimumTLSVersion = .tlsv12
            // BoringSSL refuses a key that does not match the leaf certificate when the context is made.
            do { _ = try NIOSSLContext(configuration: tls) } catch {
                throw WebError("http.tls: the key in \(privateKey) does not serve the certificate in \(certificate): \(error)")
            }
            return tls
        }
    }

    let configuration: Configuration
    let database: Database
    let status: any NodeStatus
    let receiver: any InstanceReceiver
    let registry: PrometheusCollectorRegistry
    let audit: WebAudit
    let logger: Logger
    /// The dashboard's signed-in browsers (in memory: a restart signs them out).
    let sessions = SessionStore()
    private var group: ServiceGroup?
    private var task: Task<Void, Never>?
    private let stopped = DispatchSemaphore(value: 0)

    public init(configuration: Configuration, database: Database, status: any NodeStatus, receiver: any InstanceReceiver,
                registry: PrometheusCollectorRegistry, audit: WebAudit, logger: Logger) {
        self.configuration = configuration
        self.database = database
        self.status = status
        self.receiver = receiver
        self.registry = registry
        self.audit = audit
        self.logger = logger
    }

    func router() -> Router<WebContext> {
        let router = Router(context: WebContext.self)
        router.add(middleware: ProblemMiddleware())
        router.get("healthz") { _, _ in "ok\n" }
        router.get("readyz") { [status] _, _ -> Response in
            let checks = status.readiness()
            let ready = checks.allSatisfy(\.ready)
            return try JSONBody.response(["ready": ready, "checks": checks.map { ["name": $0.name, "ready": $0.ready, "detail": $0.detail] }],
                                         status: ready ? .ok : .serviceUnavailable)
        }
        router.get("metrics") { [status, registry] _, _ -> Response in
            status.refreshGauges()
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        API(pipeline: Pipeline(database: database), index: InstanceIndex(database: database), audit: audit)
            .add(to: router, tokens: configuration.tokens, sessions: sessions)
        STOW(receiver: receiver, maxBody: configuration.maxUploadBytes).add(to: router, tokens: configuration.tokens, sessions: sessions)
        let dicomweb = router.group("dicomweb").add(middleware: Authenticator(tokens: configuration.tokens, sessions: sessions, minimum: .viewer))
        let catalog = ObjectCatalog(index: InstanceIndex(database: database), pipeline: Pipeline(database: database), logger: logger)
        QIDO(catalog: catalog).add(to: dicomweb)
        WADO(catalog: catalog, logger: logger).add(to: dicomweb)
        Rendered(catalog: catalog).add(to: dicomweb)
        Dashboard(database: database, tokens: configuration.tokens, sessions: sessions, logger: logger, audit: audit,
                  secureCookies: configuration.tls != nil).add(to: router)
        return router
    }

    /// Binds and serves in the background; returns once the port is bound (or throws why not).
    public func start() throws {
        let bound = DispatchSemaphore(value: 0)
        let server: HTTPServerBuilder = try configuration.tls.map { try .tls(.http1(), tlsConfiguration: $0.serverConfiguration()) } ?? .http1()
        let scheme = configuration.tls == nil ? "http" : "https"
        let app = Application(router: router(), server: server,
                              configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "lstv-node"),
                              onServerRunning: { [logger] channel in
                                  logger.info("http listening", metadata: ["address": "\(channel.localAddress?.description ?? "?")",
                                                                           "scheme": "\(scheme)"])
                                  bound.signal()
                              },
                              logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        self.group = group
        let failure = FailureBox()
        task = Task { [stopped] in
            do { try await group.run() } catch { failure.set(error); bound.signal() }
            stopped.signal()
        }
        bound.wait()
        if let error = failure.error { throw WebError("cannot serve HTTP on \(configuration.host):\(configuration.port): \(error)") }
    }

    /// Stops accepting, lets requests in flight finish, and returns when the server is down.
    public func stop() {
        guard let group else { return }
        Task { await group.triggerGracefulShutdown() }
        stopped.wait()
        self.group = nil
    }
}

/// The error a background start failed with, read once the start has signalled.
private final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    func set(_ e: Error) { lock.lock(); stored = e; lock.unlock() }
    var error: Error? { lock.lock(); defer { lock.unlock() }; return stored }
}
