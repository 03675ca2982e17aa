import SwiftASN1
import Synchronization
import X509

/// Parsed forms of what does not change between verifications, keyed by the exact bytes they were parsed
/// from: certificate chains (PEM) and CRLs (DER). Intel's issuer chains and CRLs are the same for every quote
/// of a platform for weeks, and parsing them with swift-certificates was most of a verification's time.
///
/// Only parsing is cached, never a verdict: every signature, chain, window and revocation check runs on every
/// call, on these values, at the caller's validation time. A key is the whole input, so a changed byte is a
/// miss and is parsed (and checked) afresh. Bounded: when full, it starts over.
enum ParsedCollateralCache {
    /// Entries kept per kind before the cache is emptied.
    static let capacity = 64

    private static let chains = Mutex<[String: [Certificate]]>([:])
    private static let revocationLists = Mutex<[[UInt8]: RevocationList]>([:])

    /// The certificates of a PEM chain, in order; nil when any of them does not parse (never cached).
    static func certificates(pem: String) -> [Certificate]? {
        if let hit = chains.withLock({ $0[pem] }) { return hit }
        guard let parsed = try? PEMDocument.parseMultiple(pemString: pem).map({ try Certificate(pemDocument: $0) }) else { return nil }
        chains.withLock { cache in
            if cache.count >= capacity { cache.removeAll() }
            cache[pem] = parsed
        }
        return parsed
    }

    /// The CRL encoded by `der`; nil when it does not parse (never cached).
    static func revocationList(der: [UInt8]) -> RevocationList? {
        if let hit = revocationLists.withLock({ $0[der] }) { return hit }
        guard let parsed = try? RevocationList(der: der) else { return nil }
        revocationLists.withLock { cache in
            if cache.count >= capacity { cache.removeAll() }
            cache[der] = parsed
        }
        return parsed
    }
}
