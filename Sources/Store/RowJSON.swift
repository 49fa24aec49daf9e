import Foundation

extension Row {
    /// A column's text as the JSON value its PostgreSQL type says it is (numbers as numbers, JSON as
    /// JSON); throws naming the column when the text does not parse as its type.
    public static func jsonValue(_ text: String, kind: ColumnKind, column: String) throws -> Any {
        switch kind {
        case .integer: if let n = Int(text) { return n }
        case .number: if let d = Double(text) { return d }
        case .boolean: return text == "t"
        case .json: return try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        case .timestamp, .text: return text
        }
        throw StoreError("column \(column): \(kind) value \(text.debugDescription) does not parse")
    }

    /// Every column of the row, typed; NULL as JSON null.
    public func jsonObject() throws -> [String: Any] {
        var o: [String: Any] = [:]
        for (k, kind) in kinds { o[k] = try values[k].map { try Self.jsonValue($0, kind: kind, column: k) } ?? NSNull() }
        for (k, v) in values where kinds[k] == nil { o[k] = v }
        return o
    }
}

extension OutboxItem {
    /// The delivery as `outbox list --json` and the API show it.
    public var jsonObject: [String: Any] {
        ["id": id, "kind": kind.rawValue, "sop_instance_uid": sopInstanceUID, "series_instance_uid": seriesInstanceUID,
         "destination": destination.description, "state": state.rawValue, "attempts": attempts,
         "next_attempt_at": Timestamp.iso8601(nextAttemptAt), "last_status": lastStatus ?? NSNull(),
         "last_error": lastError ?? NSNull(), "sent_at": sentAt.map { Timestamp.iso8601($0) } ?? NSNull()]
    }
}
