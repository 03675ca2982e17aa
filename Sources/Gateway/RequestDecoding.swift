import Foundation
import Hummingbird
import OAuth3Wire

extension Request {
    /// Decodes a JSON body, answering 400 with the field and the problem when it does not fit, and 413
    /// when it is too large; and names each top-level field it was sent but does not read, for the
    /// reply's `warnings`.
    func decodeRequest<T: Decodable & KnownFields>(_ type: T.Type, context: GatewayContext) async throws -> (T, warnings: [String]) {
        let body = try await collectedBody(context: context)
        return (try RequestBody.decode(type, from: body), RequestBody.unknownFields(of: type, in: body))
    }

    /// Decodes a JSON body as ``decodeRequest(_:context:)`` does, without naming unknown fields: for the
    /// bodies the daemon's own passkey pages send (challenges, enrolments, owner actions), which its own
    /// script builds.
    func decodeJSON<T: Decodable>(_ type: T.Type, context: GatewayContext) async throws -> T {
        try RequestBody.decode(type, from: try await collectedBody(context: context))
    }

    /// The body, within the size limit.
    private func collectedBody(context: GatewayContext) async throws -> ByteBuffer {
        do {
            return try await body.collect(upTo: context.maxUploadSize)
        } catch {
            throw GatewayError(.contentTooLarge, "request body is larger than \(context.maxUploadSize) bytes")
        }
    }

    /// The raw body as text (forms), within the size limit.
    func bodyText(context: GatewayContext) async throws -> String {
        do {
            let buffer = try await body.collect(upTo: context.maxUploadSize)
            return String(buffer: buffer)
        } catch {
            throw GatewayError(.contentTooLarge, "request body is larger than \(context.maxUploadSize) bytes")
        }
    }

    /// Whether the client prefers HTML (a browser) over JSON.
    var prefersHTML: Bool {
        let accept = headers[.accept] ?? ""
        return accept.contains("text/html") && !accept.hasPrefix("application/json")
    }
}

/// Turning request bytes into a request type, with errors that name the field.
enum RequestBody {
    static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        guard buffer.readableBytes > 0 else { throw GatewayError.badRequest("request body is empty: expected a JSON object") }
        do {
            // One strict reading for every request (StrictJSON): duplicate keys, lone surrogates and
            // non-canonical numbers are refused with their byte offset, before any decoder sees them.
            return try StrictJSON.decode(T.self, from: buffer.readableBytesView)
        } catch let error as StrictJSONError {
            throw GatewayError.badRequest("malformed JSON: \(error)")
        } catch let DecodingError.keyNotFound(key, context) {
            throw GatewayError.badRequest("missing field '\(path(context.codingPath + [key]))'")
        } catch let DecodingError.typeMismatch(_, context) where context.codingPath.isEmpty {
            throw GatewayError.badRequest("the request body must be a JSON object")
        } catch let DecodingError.typeMismatch(expected, context) {
            throw GatewayError.badRequest("field '\(path(context.codingPath))' has the wrong type (expected \(expected)): \(context.debugDescription)")
        } catch let DecodingError.valueNotFound(_, context) where context.codingPath.isEmpty {
            throw GatewayError.badRequest("the request body must be a JSON object, not null")
        } catch let DecodingError.valueNotFound(_, context) {
            throw GatewayError.badRequest("field '\(path(context.codingPath))' is null")
        } catch let DecodingError.dataCorrupted(context) {
            throw GatewayError.badRequest(context.codingPath.isEmpty ? "malformed JSON: \(context.underlyingError.map { "\($0)" } ?? context.debugDescription)" : "field '\(path(context.codingPath))': \(context.debugDescription)")
        } catch {
            throw GatewayError.badRequest("malformed JSON: \(error)")
        }
    }

    /// One warning per top-level key of the JSON object in `buffer` that `type` does not read, sorted;
    /// a camelCase spelling of a field the API spells in snake_case says so.
    static func unknownFields<T: KnownFields>(of type: T.Type, in buffer: ByteBuffer) -> [String] {
        guard let object = try? JSONDecoder().decode([String: JSONValue].self, from: Data(buffer.readableBytesView)) else { return [] }
        return object.keys.filter { !T.fieldNames.contains($0) }.sorted().map { key in
            let snake = snakeCase(key)
            return T.fieldNames.contains(snake)
                ? "unknown field '\(key)' ignored: did you mean '\(snake)'?"
                : "unknown field '\(key)' ignored: this request reads only \(T.fieldNames.sorted().joined(separator: ", "))"
        }
    }

    /// `skillCode` → `skill_code`.
    static func snakeCase(_ key: String) -> String {
        key.reduce(into: "") { out, character in
            if character.isUppercase, !out.isEmpty { out += "_" }
            out += character.lowercased()
        }
    }
}

private func path(_ keys: [any CodingKey]) -> String {
    keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
}
