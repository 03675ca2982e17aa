import Foundation
import Hummingbird
import OAuth3Wire

extension Request {
    /// Decodes a JSON body, answering 400 with the field and the problem when it does not fit, and 413
    /// when it is too large.
    func decodeJSON<T: Decodable>(_ type: T.Type, context: GatewayContext) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: context.maxUploadSize)
        } catch {
            throw GatewayError(.contentTooLarge, "request body is larger than \(context.maxUploadSize) bytes")
        }
        guard buffer.readableBytes > 0 else { throw GatewayError.badRequest("request body is empty: expected a JSON object") }
        do {
            return try StrictJSON.decode(T.self, from: buffer.readableBytesView)
        } catch let error as StrictJSONError {
            throw GatewayError.badRequest("malformed JSON: \(error)")
        } catch let DecodingError.keyNotFound(key, context) {
            throw GatewayError.badRequest("missing field '\(path(context.codingPath + [key]))'")
        } catch let DecodingError.typeMismatch(expected, context) {
            throw GatewayError.badRequest("field '\(path(context.codingPath))' has the wrong type (expected \(expected)): \(context.debugDescription)")
        } catch let DecodingError.valueNotFound(_, context) {
            throw GatewayError.badRequest("field '\(path(context.codingPath))' is null")
        } catch let DecodingError.dataCorrupted(context) {
            throw GatewayError.badRequest(context.codingPath.isEmpty ? "malformed JSON: \(context.underlyingError.map { "\($0)" } ?? context.debugDescription)" : "field '\(path(context.codingPath))': \(context.debugDescription)")
        } catch {
            throw GatewayError.badRequest("malformed JSON: \(error)")
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

private func path(_ keys: [any CodingKey]) -> String {
    keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
}
