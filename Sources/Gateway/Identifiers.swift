import Crypto
import DCAPVerifier
import Foundation

/// Random identifiers and secrets, and the hashes the store keeps instead of secrets.
enum Identifiers {
    /// `prefix` + 16 hex digits: `exec_`, `scope_`, `session_`, `tenant_`.
    static func make(_ prefix: String) -> String { prefix + hex(count: 8) }
    /// An API key: `oauth3_` + 32 random bytes, hex.
    static func apiKey() -> String { "oauth3_" + hex(count: 32) }

    static func hex(count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    static func sha256(_ text: String) -> Data { Data(SHA256.hash(data: Data(text.utf8))) }
    static func sha256Hex(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).hexString }

    /// Compares two digests in constant time.
    static func equalDigests(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
