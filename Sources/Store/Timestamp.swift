import Foundation

/// Timestamps cross the libpq boundary as ISO 8601 text in UTC with microseconds, so the node's
/// clock (not the server's) decides quiet periods and retention.
/// The node's one UTC formatter: for libpq (`format`), for JSON (`iso8601`) and for the log (`log`).
public enum Timestamp {
    public static func format(_ date: Date) -> String { utc(date, "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", subsecondDigits: 6) }

    /// ISO 8601 in UTC to the second ("2026-11-30T05:59:02Z"), as `flags`/`outbox list --json` print it.
    public static func iso8601(_ date: Date) -> String { utc(date, "%04d-%02d-%02dT%02d:%02d:%02dZ", subsecondDigits: 0) }

    /// ISO 8601 in UTC with milliseconds ("2026-11-30T05:59:02.115Z"), the log's `ts`.
    public static func log(_ date: Date) -> String { utc(date, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", subsecondDigits: 3) }

    /// `pattern` takes year, month, day, hour, minute, second and (with digits > 0) the fraction,
    /// truncated to `subsecondDigits` digits.
    private static func utc(_ date: Date, _ pattern: String, subsecondDigits: Int) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = floor(seconds)
        var t = time_t(whole)
        var tm = tm()
        gmtime_r(&t, &tm)
        var fields: [CVarArg] = [Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1, Int(tm.tm_mday), Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec)]
        if subsecondDigits > 0 {
            let scale = pow(10, Double(subsecondDigits))
            // Microseconds round (libpq keeps them exactly); shorter fractions truncate, as clocks do.
            let fraction = subsecondDigits == 6 ? ((seconds - whole) * scale).rounded() : ((seconds - whole) * scale).rounded(.down)
            fields.append(min(Int(fraction), Int(scale) - 1))
        }
        return String(format: pattern, arguments: fields)
    }

    /// Parses PostgreSQL's timestamptz output (session time zone UTC: "2026-11-24 03:12:00.123456+00").
    public static func parse(_ text: String) -> Date? {
        let parts = text.split(separator: " ")
        guard parts.count == 2 else { return nil }
        let d = parts[0].split(separator: "-").compactMap { Int($0) }
        var timePart = String(parts[1])
        var offsetSeconds = 0
        if let signIndex = timePart.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            let offset = timePart[timePart.index(after: signIndex)...].split(separator: ":").compactMap { Int($0) }
            let sign = timePart[signIndex] == "-" ? -1 : 1
            offsetSeconds = sign * ((offset.first ?? 0) * 3600 + (offset.count > 1 ? offset[1] * 60 : 0))
            timePart = String(timePart[..<signIndex])
        }
        let t = timePart.split(separator: ":")
        guard d.count == 3, t.count == 3, let h = Int(t[0]), let m = Int(t[1]), let s = Double(t[2]) else { return nil }
        var tm = tm()
        tm.tm_year = Int32(d[0] - 1900); tm.tm_mon = Int32(d[1] - 1); tm.tm_mday = Int32(d[2])
        tm.tm_hour = Int32(h); tm.tm_min = Int32(m); tm.tm_sec = 0
        let base = timegm(&tm)
        return Date(timeIntervalSince1970: Double(base) + s - Double(offsetSeconds))
    }
}
