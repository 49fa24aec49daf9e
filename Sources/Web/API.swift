import Foundation
import Analysis
import Hummingbird
import Records
import Store

/// `/api/v1`: the stored flags, series and deliveries as JSON. Reads need a viewer token; retrying
/// a delivery needs an admin. Paging: `limit` (1…1000, default 100) and `offset`. `docs/openapi.yaml`
/// describes every operation (served at `/api/v1/openapi.yaml`).
struct API {
    let pipeline: Pipeline
    let index: InstanceIndex
    let audit: WebAudit

    func add(to router: Router<WebContext>, tokens: TokenStore, sessions: SessionStore) {
        OpenAPIDocument.add(to: router)
        let api = router.group("api/v1").add(middleware: Authenticator(tokens: tokens, sessions: sessions, minimum: .viewer))
        api.get("flags", use: flags)
        api.get("series", use: seriesList)
        api.get("series/{uid}", use: series)
        api.get("series/{uid}/fhir", use: fhir)
        api.get("outbox", use: outbox)
        api.group("outbox").add(middleware: Authenticator(tokens: tokens, sessions: sessions, minimum: .admin)).post("{id}/retry", use: retry)
    }

    struct Page {
        let limit: Int, offset: Int
        init(_ request: Request) throws {
            let q = request.uri.queryParameters
            guard let limit = Int(q.get("limit") ?? "100"), (1...1000).contains(limit) else { throw HTTPError(.badRequest, message: "limit must be 1…1000") }
            guard let offset = Int(q.get("offset") ?? "0"), offset >= 0 else { throw HTTPError(.badRequest, message: "offset must be 0 or more") }
            self.limit = limit; self.offset = offset
        }
    }

    func flags(_ request: Request, _ context: WebContext) async throws -> Response {
        let page = try Page(request)
        let q = request.uri.queryParameters
        var since: Date?
        if let text = q.get("since") {
            guard let d = Self.dateTime(text) else { throw HTTPError(.badRequest, message: "since must be an RFC 3339 date-time") }
            since = d
        }
        var risk: Risk?
        if let text = q.get("risk") {
            guard let r = Risk(rawValue: text) else { throw HTTPError(.badRequest, message: "risk must be low, medium or high") }
            risk = r
        }
        let rows = try pipeline.flags(since: since, risk: risk?.rawValue, limit: page.limit, offset: page.offset)
        return try JSONBody.response(["items": try rows.map { try $0.jsonObject() }, "limit": page.limit, "offset": page.offset])
    }

    func seriesList(_ request: Request, _ context: WebContext) async throws -> Response {
        let page = try Page(request)
        let all = try index.allSeries()
        let items = all.dropFirst(page.offset).prefix(page.limit).map(Self.json)
        return try JSONBody.response(["items": Array(items), "limit": page.limit, "offset": page.offset, "total": all.count])
    }

    func series(_ request: Request, _ context: WebContext) async throws -> Response {
        let uid = try context.parameters.require("uid")
        guard let s = try index.series(uid: uid) else { throw HTTPError(.notFound, message: "no series \(uid)") }
        var o = Self.json(s)
        let analyses = try pipeline.analyses(seriesInstanceUID: uid).map { try $0.jsonObject() }
        o["analyses"] = analyses
        // The latest finished analysis says which instances it left out (none: an empty list).
        let latest = analyses.last { $0["state"] as? String == "done" }
        o["excluded_instances"] = (latest?["result"] as? [String: Any])?["excluded_instances"] ?? [Any]()
        o["deliveries"] = try pipeline.deliveries(analysedSeries: uid).map(\.jsonObject)
        return try JSONBody.response(o)
    }

    func fhir(_ request: Request, _ context: WebContext) async throws -> Response {
        let uid = try context.parameters.require("uid")
        guard let row = try pipeline.flag(seriesInstanceUID: uid) else {
            guard try index.series(uid: uid) != nil else { throw HTTPError(.notFound, message: "no series \(uid)") }
            throw HTTPError(.notFound, message: "series \(uid) has no finished analysis")
        }
        return try JSONBody.response(try FHIRReport.resource(row), contentType: "application/fhir+json")
    }

    /// An RFC 3339 date-time (`T` or `t`, fractional seconds or none, `Z` or an offset).
    static func dateTime(_ text: String) -> Date? {
        let upper = text.uppercased()
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions.insert(.withFractionalSeconds)
        return plain.date(from: upper) ?? fractional.date(from: upper)
    }

    func outbox(_ request: Request, _ context: WebContext) async throws -> Response {
        let page = try Page(request)
        let all = try pipeline.outbox()
        return try JSONBody.response(["items": all.dropFirst(page.offset).prefix(page.limit).map(\.jsonObject),
                                      "limit": page.limit, "offset": page.offset, "total": all.count])
    }

    func retry(_ request: Request, _ context: WebContext) async throws -> Response {
        guard let id = Int64(try context.parameters.require("id")) else { throw HTTPError(.badRequest, message: "id must be a number") }
        guard try pipeline.outbox().contains(where: { $0.id == id }) else { throw HTTPError(.notFound, message: "no delivery \(id)") }
        guard try pipeline.retry(outboxID: id, now: Date()) else {
            throw HTTPError(.conflict, message: "delivery \(id) is sending or sent; only dead or waiting deliveries are retried")
        }
        audit.retried(delivery: id, by: context.identity, via: "API")
        return try JSONBody.response(["id": id, "state": OutboxState.pending.rawValue])
    }

    static func json(_ s: SeriesRecord) -> [String: Any] {
        ["study_instance_uid": s.studyInstanceUID, "series_instance_uid": s.seriesInstanceUID,
         "modality": s.descriptors.modality ?? NSNull(), "series_description": s.descriptors.seriesDescription ?? NSNull(),
         "instances": s.instances, "state": s.state.rawValue, "revision": s.revision,
         "route": s.route?.rawValue ?? NSNull(), "reason": s.reason ?? NSNull(),
         "first_instance_at": Timestamp.iso8601(s.firstInstanceAt), "last_instance_at": Timestamp.iso8601(s.lastInstanceAt),
         "completed_at": s.completedAt.map(Timestamp.iso8601) ?? NSNull(),
         "purged_at": s.purgedAt.map(Timestamp.iso8601) ?? NSNull(), "purge_reason": s.purgeReason?.rawValue ?? NSNull()]
    }
}
