import Foundation
import OAuth3Wire

extension JobRecord {
    /// The job's attested result, read back exactly as it was stored (``AttestedResult/read(from:)``:
    /// strict JSON, no member added or missing); nil before the job ran.
    public func attestedResult() throws -> AttestedResult? {
        try resultJSON.map { try AttestedResult.read(from: Array($0.utf8)) }
    }

    /// The stored form of `result`: its JSON encoding, keys sorted (what ``attestedResult()`` reads back).
    public static func storedResult(_ result: AttestedResult) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return String(decoding: try encoder.encode(result), as: UTF8.self)
    }
}
