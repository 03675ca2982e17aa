import Foundation

extension AttestedResult {
    /// Reads a result from untrusted bytes: ``StrictJSON``, then ``read(_:)``.
    public static func read(from bytes: some Collection<UInt8>) throws -> AttestedResult {
        try read(try StrictJSON.decode(JSONValue.self, from: bytes))
    }

    /// Reads a result exactly: decoded as this type, and refused unless re-encoding the value gives
    /// back `document` member for member.
    ///
    /// So a key the format does not have is refused wherever it is, never silently dropped: outside the
    /// claims nothing covers it (an `attestation.app_id` or `attestation.verified` a naive reader might
    /// trust), and inside them it would be signed but unread, shown by one reader and ignored by another.
    /// An optional member the format writes as `null` must be present, so the hash a verifier recomputes
    /// is over exactly the bytes it was given.
    /// - Throws: ``ResultFormatError`` naming the first member that differs, or the decoder's error.
    public static func read(_ document: JSONValue) throws -> AttestedResult {
        let result: AttestedResult
        do {
            result = try JSONDecoder().decode(AttestedResult.self, from: Data(CanonicalJSON.encode(document)))
        } catch let error as DecodingError {
            throw ResultFormatError(problem: Self.describe(error))
        }
        if let difference = Self.firstDifference(document, try JSONValue(encoding: result), path: "") {
            throw ResultFormatError(problem: difference)
        }
        return result
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return keys.isEmpty ? "the result" : String(keys.dropFirst(keys.hasPrefix(".") ? 1 : 0))
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context) == "the result" ? "" : path(context) + ".")\(key.stringValue) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    /// Where `given` differs from `expected` (the typed value's own encoding), as a sentence naming the member.
    private static func firstDifference(_ given: JSONValue, _ expected: JSONValue, path: String) -> String? {
        switch (given, expected) {
        case (.object(let have), .object(let want)):
            let name = { (key: String) in path.isEmpty ? key : "\(path).\(key)" }
            if let unknown = have.keys.filter({ want[$0] == nil }).sorted().first {
                return "\(name(unknown)) is not a member of the result format (refused: nothing reads it, and a reader could take it for attested)"
            }
            if let missing = want.keys.filter({ have[$0] == nil }).sorted().first {
                return "\(name(missing)) is missing (the format writes it, as null when empty)"
            }
            for key in have.keys.sorted() {
                if let difference = firstDifference(have[key]!, want[key]!, path: name(key)) { return difference }
            }
            return nil
        case (.array(let have), .array(let want)) where have.count == want.count:
            for (index, pair) in zip(have, want).enumerated() {
                if let difference = firstDifference(pair.0, pair.1, path: "\(path)[\(index)]") { return difference }
            }
            return nil
        default:
            return given == expected ? nil : "\(path.isEmpty ? "the result" : path) does not read back as the same value"
        }
    }
}

/// A document that is not a result of this format: the member and what is wrong with it.
public struct ResultFormatError: Error, Sendable, Hashable, CustomStringConvertible {
    public let problem: String
    public var description: String { "not a result of this format: \(problem)" }
}
