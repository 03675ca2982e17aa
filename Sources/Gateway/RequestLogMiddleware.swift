import Hummingbird
import Logging

/// Logs each request's method, path and status at debug level, and nothing else.
///
/// Hummingbird's `LogRequestsMiddleware` logs the whole URI, and an approval link carries its token in
/// the query (`/approve/ID?token=…`); credentials never reach a log, so the query and the headers stay out.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            context.logger.debug("request", metadata: [
                "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "status": "\(response.status.code)",
            ])
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            context.logger.debug("request", metadata: [
                "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "status": "\(status)",
            ])
            throw error
        }
    }
}
