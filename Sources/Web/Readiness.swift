/// One condition of `/readyz`.
public struct ReadinessCheck: Sendable, Equatable {
    public var name: String
    public var ready: Bool
    public var detail: String
    public init(name: String, ready: Bool, detail: String) { self.name = name; self.ready = ready; self.detail = detail }
}

/// What the node reports about itself to the web face: readiness for `/readyz`, and a moment to
/// refresh the gauges read from the database or the disk just before `/metrics` is scraped.
public protocol NodeStatus: Sendable {
    func readiness() -> [ReadinessCheck]
    func refreshGauges()
}
