import OAuth3Wire
import SwiftASN1
import Synchronization
import X509

/// Parsed forms of what does not change between verifications, keyed by the exact bytes they were parsed
/// from: certificate chains (PEM), CRLs (DER) and the signed TCB info and QE identity documents (JSON). Intel's issuer chains and CRLs are the same for every quote
/// of a platform for weeks, and parsing them with swift-certificates was most of a verification's time.
///
/// Only parsing is cached, never a verdict: every signature, chain, window and revocation check runs on every
/// call, on these values, at the caller's validation time. A key is the whole input, so a changed byte is a
/// miss and is parsed (and checked) afresh. Bounded: when full, it starts over.
enum ParsedCollateralCache {
    /// Entries kept per kind before the cache is emptied.
    static let capacity = 64

    private static let chains = Mutex<[String: [Certificate]]>([:])
    private static let revocationLists = Mutex<[String: RevocationList]>([:])
    private static let pckExtensions = Mutex<[Certificate: PCKExtension]>([:])
    private static let documents = Mutex<[String: any Sendable]>([:])

    /// A signed collateral document (TCB info, QE identity) decoded strictly from `json`, its exact text;
    /// the signature over that text is still checked by the caller on every verification.
    static func document<Document: Decodable & Sendable>(_ type: Document.Type, json: String) throws -> Document {
        let key = "\(Document.self)\u{0}" + json
        if let hit = documents.withLock({ $0[key] }) as? Document { return hit }
        let parsed = try StrictJSON.decode(Document.self, from: Array(json.utf8))
        documents.withLock { cache in
            if cache.count >= capacity { cache.removeAll() }
            cache[key] = parsed
        }
        return parsed
    }

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

    /// The CRL whose DER `hex` spells (as the collateral carries it); nil when it does not parse (never cached).
    static func revocationList(hex: String) -> RevocationList? {
        if let hit = revocationLists.withLock({ $0[hex] }) { return hit }
        guard let der = bytes(fromHex: hex), let parsed = try? RevocationList(der: der) else { return nil }
        revocationLists.withLock { cache in
            if cache.count >= capacity { cache.removeAll() }
            cache[hex] = parsed
        }
        return parsed
    }

    /// The SGX extension of a PCK certificate (FMSPC, PCE id, TCB components).
    static func pckExtension(of certificate: Certificate) throws(QuoteParseError) -> PCKExtension {
        if let hit = pckExtensions.withLock({ $0[certificate] }) { return hit }
        let parsed = try PCKExtension(certificate: certificate)
        pckExtensions.withLock { cache in
            if cache.count >= capacity { cache.removeAll() }
            cache[certificate] = parsed
        }
        return parsed
    }
}
