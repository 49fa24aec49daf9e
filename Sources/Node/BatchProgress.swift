/// Where a batch stands, as `analyze`'s progress line says it: the bar, the count, the rate and
/// the time left. Pure: the caller measures the time and decides where the line goes.
public struct BatchProgress: Equatable, Sendable {
    public let total: Int
    public var done: Int
    /// Seconds since the batch started.
    public var elapsed: Double

    public init(total: Int, done: Int = 0, elapsed: Double = 0) {
        self.total = total; self.done = done; self.elapsed = elapsed
    }

    /// Series per minute so far; nil until one has finished.
    public var perMinute: Double? {
        guard done > 0, elapsed > 0 else { return nil }
        return Double(done) / elapsed * 60
    }

    /// Seconds left at the rate so far; nil until there is a rate.
    public var secondsLeft: Double? {
        perMinute.map { Double(total - done) / $0 * 60 }
    }

    /// `[#########---------] 3/6 series  7.5 series/min  0:24 left`; before the first series has
    /// finished the rate and the time left are `--`.
    public func line(barWidth: Int = 30) -> String {
        let filled = total == 0 ? barWidth : min(done, total) * barWidth / total
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: barWidth - filled)
        let rate = perMinute.map { Self.oneDecimal($0) } ?? "--"
        let left = secondsLeft.map(Self.duration) ?? "--:--"
        return "[\(bar)] \(done)/\(total) series  \(rate) series/min  \(left) left"
    }

    /// m:ss, or h:mm:ss from an hour on; rounded up, so a batch shows 0:00 only when it is done.
    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.up))
        let (h, m, r) = (s / 3600, s / 60 % 60, s % 60)
        return h > 0 ? "\(h):\(twoDigits(m)):\(twoDigits(r))" : "\(m):\(twoDigits(r))"
    }

    static func twoDigits(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }

    /// One decimal without Foundation's locale-dependent formatting.
    static func oneDecimal(_ v: Double) -> String {
        let tenths = Int((v * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

/// What a batch did, counted for the closing line on stderr.
public struct BatchSummary: Equatable, Sendable {
    public var analysed: Int
    /// Series the routing rules did not send to the localizer.
    public var ignored: Int
    /// Files that were not DICOM or could not be read.
    public var unreadableFiles: Int
    public var failed: Int

    public init(analysed: Int, ignored: Int, unreadableFiles: Int, failed: Int) {
        self.analysed = analysed; self.ignored = ignored; self.unreadableFiles = unreadableFiles; self.failed = failed
    }

    public var line: String {
        "\(analysed) series analysed, \(ignored) ignored (not routed to the localizer), "
            + "\(unreadableFiles) unreadable \(unreadableFiles == 1 ? "file" : "files"), \(failed) failed"
    }
}
