import Foundation

/// The framing of a `multipart/related` response (RFC 2387, as WADO-RS answers): a delimiter and
/// header fields before each part, the close delimiter after the last. The parts' bytes go between
/// unchanged, so a caller can stream them from disk and still know the body's length up front.
struct MultipartWriter: Sendable {
    let boundary: String
    /// The media type of every part (the `type` parameter of the whole).
    let type: String

    /// A boundary no Part 10 file is likely to contain: a random UUID's 122 bits.
    static func randomBoundary() -> String {
        "lstv-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    var contentType: String { "multipart/related; type=\"\(type)\"; boundary=\(boundary)" }

    /// What goes before a part: the delimiter and the part's Content-Type (with the transfer syntax
    /// when known, PS3.18 8.7.3.5.2).
    func partHeader(transferSyntaxUID: String?) -> [UInt8] {
        let typeField = transferSyntaxUID.map { "\(type); transfer-syntax=\($0)" } ?? type
        return Array("--\(boundary)\r\nContent-Type: \(typeField)\r\n\r\n".utf8)
    }

    /// The line break that ends a part's bytes.
    static let partEnd: [UInt8] = [13, 10]

    var closeDelimiter: [UInt8] { Array("--\(boundary)--\r\n".utf8) }

    /// The body's length for parts of these sizes (and transfer syntaxes).
    func length(of parts: [(bytes: Int, transferSyntaxUID: String?)]) -> Int {
        parts.reduce(closeDelimiter.count) { $0 + partHeader(transferSyntaxUID: $1.transferSyntaxUID).count + $1.bytes + Self.partEnd.count }
    }
}
