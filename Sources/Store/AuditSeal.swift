import Crypto
import Foundation
import GRDB
import OAuth3Wire
import Synchronization

/// The key that seals the audit log's recorded head: `HMAC-SHA256(key, "oauth3-enclave/audit-head/v1" NUL
/// seq NUL hash)`, hex. The chain alone shows an edited or removed entry in the middle; only a value the
/// database's operator cannot compute shows the last entries removed, or the whole chain rewritten.
///
/// Every append calls ``sealNext`` through the SQL function ``functionName``, registered on the store's
/// connections, so the head and its seal are written in the entry's own transaction. Until a key is set
/// the function answers NULL: the head is recorded unsealed.
final class AuditSeal: Sendable {
    static let functionName = "oauth3_audit_seal_next"
    private let key = Mutex<SymmetricKey?>(nil)

    func set(_ key: SymmetricKey) { self.key.withLock { $0 = key } }

    var isSet: Bool { key.withLock { $0 != nil } }

    /// The seal of head `seq` with `hash`, or `nil` without a key.
    func mac(seq: Int64, hash: String) -> String? {
        guard let key = key.withLock({ $0 }) else { return nil }
        let message = Data(Domain.separated(Domain.auditHead, Array("\(seq)\u{0}\(hash)".utf8)))
        return HMAC<SHA256>.authenticationCode(for: message, using: key).map { String(format: "%02x", $0) }.joined()
    }

    /// The seal of a new head, given the head recorded before it and the entry that was last: only when
    /// that head was sealed and still names the last entry (or the log was empty and had no head). An
    /// append on top of a log cut short or rewritten leaves the new head unsealed, so the damage stays
    /// visible instead of being sealed over.
    func sealNext(seq: Int64, hash: String, head: (seq: Int64, hash: String, mac: String?)?, last: (seq: Int64, hash: String)?) -> String? {
        switch (head, last) {
        case (nil, nil):
            return mac(seq: seq, hash: hash)
        case (let head?, let last?) where head.seq == last.seq && head.hash == last.hash && head.mac != nil && head.mac == mac(seq: head.seq, hash: head.hash):
            return mac(seq: seq, hash: hash)
        default:
            return nil
        }
    }

    /// The SQL function appends call: `(seq, hash, headSeq, headHash, headMac, lastSeq, lastHash)`.
    var function: DatabaseFunction {
        DatabaseFunction(Self.functionName, argumentCount: 7, pure: false) { [self] values in
            guard let seq = Int64.fromDatabaseValue(values[0]), let hash = String.fromDatabaseValue(values[1]) else { return nil }
            let head = Int64.fromDatabaseValue(values[2]).flatMap { headSeq in
                String.fromDatabaseValue(values[3]).map { (seq: headSeq, hash: $0, mac: String.fromDatabaseValue(values[4])) }
            }
            let last = Int64.fromDatabaseValue(values[5]).flatMap { lastSeq in String.fromDatabaseValue(values[6]).map { (seq: lastSeq, hash: $0) } }
            return sealNext(seq: seq, hash: hash, head: head, last: last)
        }
    }
}
