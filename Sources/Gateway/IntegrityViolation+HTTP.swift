import HTTPTypes
import Hummingbird
import Store

/// A row refused for its integrity answers 500 with the violation (table, row, what does not verify): the
/// request is fine, the enclave's storage is not, and nothing from that row is served.
extension IntegrityViolation: HTTPResponseError {
    public var status: HTTPResponse.Status { .internalServerError }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try GatewayError.internalError(description).response(from: request, context: context)
    }
}
