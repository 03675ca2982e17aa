import Foundation
import OAuth3Wire

extension JobRecord {
    /// The job's attested result as it was stored (``storedResult(_:)``); nil before the job ran.
    ///
    /// Decoded once, without ``AttestedResult/read(from:)``'s exactness check (decode, re-encode, compare,
    /// four passes over outputs of up to megabytes, on every status request): the bytes are this daemon's own
    /// encoding, and the store opens the row only after checking its MAC and its sealed columns, so a changed
    /// result never gets here. A client still reads what it is served exactly (`verify`, the SDK).
    public func attestedResult() throws -> AttestedResult? {
        try resultJSON.map { try JSONDecoder().decode(AttestedResult.self, from: Data($0.utf8)) }
    }

    /// The stored form of `result`: its JSON encoding, keys sorted (what ``attestedResult()`` reads back).
    public static func storedResult(_ result: AttestedResult) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return String(decoding: try encoder.encode(result), as: UTF8.self)
    }
}
