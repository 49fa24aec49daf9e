import Crypto
import Foundation

/// UIDs for the objects the node creates, under the 2.25 root (PS3.5 B.2: a UUID as a decimal
/// integer). Derived from a name (e.g. "analysis 42 sr"), so a job re-run after a crash produces
/// the same SOP Instance UIDs and a re-delivery is the same instance to the PACS, not a new one.
public enum UIDGenerator {
    public static func uid(for name: String) -> String {
        var bytes = Array(SHA256.hash(data: Array("lstv-node:".utf8) + Array(name.utf8)).prefix(16))
        // RFC 4122 version 5 style bits, so the value is a well-formed name-based UUID.
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return "2.25." + decimal(bytes)
    }

    /// Big-endian bytes → decimal digits (no leading zeros).
    static func decimal(_ bytes: [UInt8]) -> String {
        var n = bytes
        var digits: [Character] = []
        while n.contains(where: { $0 != 0 }) {
            var remainder = 0
            for i in n.indices {
                let v = remainder * 256 + Int(n[i])
                n[i] = UInt8(v / 10)
                remainder = v % 10
            }
            digits.append(Character(String(remainder)))
        }
        return digits.isEmpty ? "0" : String(digits.reversed())
    }
}
