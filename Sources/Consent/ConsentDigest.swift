import Crypto
import Foundation
import OAuth3Wire

/// The digest a passkey signs: SHA-256(``ConsentStatement/domain`` ‖ 0x00 ‖ canonical JSON of the
/// statement). The canonical encoding is the results' (``CanonicalJSON``), so an auditor recomputes it
/// with `json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`.
public enum ConsentDigest {
    public static func of(_ statement: ConsentStatement) -> [UInt8] {
        Array(SHA256.hash(data: Array(ConsentStatement.domain.utf8) + [0] + canonicalBytes(statement)))
    }

    /// The statement's canonical encoding (also what the daemon compares a submitted decision against).
    public static func canonicalBytes(_ statement: ConsentStatement) -> [UInt8] {
        // JSONEncoder and back: absent optionals stay absent, integers stay integers.
        let value = (try? JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(statement))) ?? .null
        return CanonicalJSON.encode(value)
    }
}
