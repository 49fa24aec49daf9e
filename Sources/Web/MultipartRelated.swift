import Foundation

/// A `multipart/related` body (RFC 2387, as STOW-RS sends it): the parts between the boundary
/// delimiters, each with its header fields and its bytes, unchanged.
struct MultipartRelated {
    struct Part {
        var headers: [String: String]  // names lower-cased
        var body: ArraySlice<UInt8>
    }

    enum Problem: Error, CustomStringConvertible {
        case noBoundary, malformed(String)
        var description: String {
            switch self {
            case .noBoundary: return "Content-Type has no boundary parameter"
            case .malformed(let why): return "malformed multipart body: \(why)"
            }
        }
    }

    /// The `boundary` and `type` parameters of a Content-Type such as
    /// `multipart/related; type="application/dicom"; boundary=XYZ`.
    static func parameters(of contentType: String) -> [String: String] {
        var out: [String: String] = [:]
        for piece in contentType.split(separator: ";").dropFirst() {
            let kv = piece.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { continue }
            let key = kv[0].trimmingCharacters(in: .whitespaces).lowercased()
            var value = kv[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            out[key] = value
        }
        return out
    }

    static func parts(_ body: [UInt8], boundary: String) throws -> [Part] {
        let delimiter = Array("--\(boundary)".utf8)
        var starts: [Int] = []
        var i = 0
        while let at = find(delimiter, in: body, from: i) {
            // A delimiter begins the body or a line.
            if at == 0 || (at >= 2 && body[at - 2] == 13 && body[at - 1] == 10) { starts.append(at) }
            i = at + delimiter.count
        }
        guard starts.count >= 2 else { throw Problem.malformed("fewer than two boundary delimiters") }
        var parts: [Part] = []
        for (a, b) in zip(starts, starts.dropFirst()) {
            var p = a + delimiter.count
            if body[p...].starts(with: [45, 45]) { break }  // "--": the close delimiter
            guard let lineEnd = find([13, 10], in: body, from: p) else { throw Problem.malformed("no line break after a delimiter") }
            p = lineEnd + 2
            guard let headerEnd = find([13, 10, 13, 10], in: body, from: p), headerEnd <= b else {
                // A part without header fields starts with the empty line at once.
                guard body[p...].starts(with: [13, 10]) else { throw Problem.malformed("part headers not terminated") }
                parts.append(Part(headers: [:], body: body[(p + 2)..<(b - 2)]))
                continue
            }
            var headers: [String: String] = [:]
            for line in String(decoding: body[p..<headerEnd], as: UTF8.self).components(separatedBy: "\r\n") where !line.isEmpty {
                guard let colon = line.firstIndex(of: ":") else { throw Problem.malformed("header line without a colon") }
                headers[line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()] =
                    line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let start = headerEnd + 4, end = b - 2  // the CRLF before the next delimiter belongs to it
            guard start <= end else { throw Problem.malformed("part shorter than its headers") }
            parts.append(Part(headers: headers, body: body[start..<end]))
        }
        return parts
    }

    static func find(_ needle: [UInt8], in hay: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, hay.count >= needle.count, from <= hay.count - needle.count else { return nil }
        let first = needle[0]
        var i = from
        while i <= hay.count - needle.count {
            if hay[i] == first && hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
