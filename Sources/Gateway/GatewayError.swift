import Foundation
import HTTPTypes
import Hummingbird
import OAuth3Wire

/// An error answered to the client: a status and a JSON body that names what is wrong and where.
public struct GatewayError: HTTPResponseError, Sendable, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public private(set) var body: ErrorBody
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ message: String, problems: [ErrorBody.Problem]? = nil) {
        self.status = status
        self.body = ErrorBody(error: message, problems: problems)
    }

    static func badRequest(_ message: String, problems: [ErrorBody.Problem]? = nil) -> Self { .init(.badRequest, message, problems: problems) }
    static func unauthorized(_ message: String) -> Self {
        var error = Self(.unauthorized, message)
        error.headers[.wwwAuthenticate] = "Bearer"
        return error
    }
    static func forbidden(_ message: String) -> Self { .init(.forbidden, message) }
    static func notFound(_ what: String) -> Self { .init(.notFound, "\(what) not found") }
    static func conflict(_ message: String) -> Self { .init(.conflict, message) }
    /// A 429 naming the limit or quota that refused (`quota` in the body, and `X-OAuth3-Quota`).
    static func tooManyRequests(_ message: String, quota: String, retryAfter: Int) -> Self {
        var error = Self(.tooManyRequests, message)
        error.body.quota = quota
        error.headers[.retryAfter] = String(retryAfter)
        error.headers[HTTPField.Name("X-OAuth3-Quota")!] = quota
        return error
    }
    static func internalError(_ message: String) -> Self { .init(.internalServerError, message) }
    static func unavailable(_ message: String) -> Self { .init(.serviceUnavailable, message) }

    public var description: String { "\(status.code) \(body.error)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try JSONBody.response(body, status: status)
        for field in headers { response.headers.append(field) }
        return response
    }
}

/// JSON responses, encoded the one way the API uses.
enum JSONBody {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }()

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try encoder.encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
