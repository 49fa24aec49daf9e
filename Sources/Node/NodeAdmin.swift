import Audit
import Foundation
import Logging
import Store

/// What the administrative CLI commands do, kept here so the CLI stays a thin shell.
public struct NodeAdmin {
    let configuration: NodeConfiguration
    let database: Database

    public init(configuration: NodeConfiguration) {
        self.configuration = configuration
        database = Database(url: configuration.effectiveDatabaseURL, maxIdle: 1)
    }

    public func migrate() throws -> [Int] { try Migrations.apply(to: database) }

    /// `series list --json`: one object per series.
    public func seriesJSON() throws -> String {
        let items = try InstanceIndex(database: database).allSeries().map(SeriesListing.init)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(items), as: UTF8.self)
    }

    public func seriesTable() throws -> String {
        let items = try InstanceIndex(database: database).allSeries().map(SeriesListing.init)
        var lines = ["SERIES INSTANCE UID                                            MOD  INST  STATE      ROUTE      DESCRIPTION"]
        for s in items {
            lines.append([s.series_instance_uid.padding(toLength: 62, withPad: " ", startingAt: 0),
                          (s.modality ?? "").padding(toLength: 4, withPad: " ", startingAt: 0),
                          String(s.instances).padding(toLength: 5, withPad: " ", startingAt: 0),
                          s.state.padding(toLength: 10, withPad: " ", startingAt: 0),
                          (s.route ?? "-").padding(toLength: 10, withPad: " ", startingAt: 0),
                          s.series_description ?? ""].joined(separator: " "))
            if let r = s.reason, s.route == "ignored" { lines.append("    reason: \(r)") }
        }
        return lines.joined(separator: "\n")
    }

    /// The effective configuration as YAML the node reads back to the same values, except that the
    /// database URL is the effective one with its password hidden.
    public static func describe(_ c: NodeConfiguration) throws -> String {
        var shown = c
        shown.databaseURL = c.redactedDatabaseURL
        return try shown.yamlFile(template: false)
    }
}

/// The JSON shape of `series list --json` (field names are part of the interface).
struct SeriesListing: Encodable {
    let study_instance_uid: String
    let series_instance_uid: String
    let modality: String?
    let series_description: String?
    let instances: Int
    let state: String
    /// Completions so far minus one: a late instance after completion reopens the series (+1).
    let revision: Int
    let route: String?
    let reason: String?
    let first_instance_at: Date
    let last_instance_at: Date
    let completed_at: Date?
    /// When the received files were last purged and why (absent when never purged).
    let purged_at: Date?
    let purge_reason: String?

    init(_ s: SeriesRecord) {
        study_instance_uid = s.studyInstanceUID
        series_instance_uid = s.seriesInstanceUID
        modality = s.descriptors.modality
        series_description = s.descriptors.seriesDescription
        instances = s.instances
        state = s.state.rawValue
        revision = s.revision
        route = s.route?.rawValue
        reason = s.reason
        first_instance_at = s.firstInstanceAt
        last_instance_at = s.lastInstanceAt
        completed_at = s.completedAt
        purged_at = s.purgedAt
        purge_reason = s.purgeReason?.rawValue
    }
}

extension NodeAdmin {
    /// `flags list`: rows of the `lstv_flags` view.
    public func flags(since: Date?, risk: String?, json: Bool) throws -> String {
        let rows = try Pipeline(database: database).flags(since: since, risk: risk)
        if json {
            let objects: [[String: Any]] = try rows.map { try $0.jsonObject() }
            let data = try JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self)
        }
        var lines = ["ANALYSED AT                  RISK    SUSPICION  COUNT  LADDER        L5/S1 ENTROPY  ACCESSION        SERIES INSTANCE UID"]
        for r in rows {
            lines.append([(r["analysed_at"] ?? "").padding(toLength: 28, withPad: " ", startingAt: 0),
                          (r["risk"] ?? "").padding(toLength: 7, withPad: " ", startingAt: 0),
                          String(format: "%9.2f ", r.double("lstv_suspicion") ?? .nan),
                          (r["lumbar_count"] ?? "-").padding(toLength: 6, withPad: " ", startingAt: 0),
                          (r["ladder_status"] ?? "").padding(toLength: 13, withPad: " ", startingAt: 0),
                          String(format: "%13.4f", r.double("l5_s1_entropy") ?? .nan),
                          " " + (r["accession_number"] ?? "-").padding(toLength: 16, withPad: " ", startingAt: 0),
                          r["series_instance_uid"] ?? ""].joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }

    public func outbox(json: Bool) throws -> String {
        let items = try Pipeline(database: database).outbox()
        if json {
            let objects = items.map(\.jsonObject)
            let data = try JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self)
        }
        var lines = ["ID     KIND       STATE    ATTEMPTS  DESTINATION                     LAST"]
        for i in items {
            lines.append([String(i.id).padding(toLength: 6, withPad: " ", startingAt: 0),
                          i.kind.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0),
                          i.state.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0),
                          String(i.attempts).padding(toLength: 9, withPad: " ", startingAt: 0),
                          "\(i.destination.aeTitle)@\(i.destination.host):\(i.destination.port)".padding(toLength: 31, withPad: " ", startingAt: 0),
                          [i.lastStatus, i.lastError].compactMap { $0 }.joined(separator: " ")].joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }

    /// Resends a delivery; the audit trail records who did (the OS user running the command).
    public func retryOutbox(id: Int64) throws -> Bool {
        let retried = try Pipeline(database: database).retry(outboxID: id, now: Date())
        if retried {
            let audit = try NodeAudit(configuration: configuration, logger: Logger(label: "audit"))
            audit.trail.record(.securityAlert(.useOfRestrictedFunction, node: audit.node,
                                              by: ActiveParticipant(userID: NSUserName(), isRequestor: true, roles: []),
                                              outcome: .success, description: "delivery \(id) retried (command line)",
                                              resource: "outbox/\(id)"))
        }
        return retried
    }
}
