import Foundation

/// How the pages write numbers and times.
enum PageFormat {
    static func number(_ v: Double?, digits: Int = 3) -> String {
        guard let v, v.isFinite else { return "—" }
        return String(format: "%.\(digits)f", v)
    }

    static func time(_ d: Date?) -> String {
        guard let d else { return "—" }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX"); f.timeZone = TimeZone(identifier: "UTC"); f.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return f.string(from: d)
    }
}

/// A page request that cannot be answered: its status and the message the error page shows.
enum PageError: Error {
    case badRequest(String), notFound(String), conflict(String)
}
