import Foundation

/// Timestamps cross the libpq boundary as ISO 8601 text in UTC with microseconds, so the node's
/// clock (not the server's) decides quiet periods and retention.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = floor(seconds)
        let micros = Int(((seconds - whole) * 1_000_000).rounded())
        var t = time_t(whole)
        var tm = tm()
        gmtime_r(&t, &tm)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1,
                      Int(tm.tm_mday), Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec), min(micros, 999_999))
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
