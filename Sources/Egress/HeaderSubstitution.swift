import Foundation
import NIOHTTP1

/// The one place a bound secret's value is written: request headers to a host the secret is bound to.
///
/// A placeholder in the URL, in a header name, or in a header to any other host refuses the whole request
/// (nothing of it is sent), so a skill cannot aim a value at a host it chose: the binding decides.
enum HeaderSubstitution {
    /// The head to send to `target`, with placeholders in header values replaced by the values of the
    /// secrets bound to it, and the names of the secrets written; or why the request is refused.
    static func apply(to head: HTTPRequestHead, target: ProxyTarget, secrets: [BoundSecret]) -> Result<(HTTPRequestHead, [String]), EgressRefusal> {
        if let secret = PlaceholderScanner.first(in: head.uri, of: secrets) { return .failure(.placeholderInURL(secret: secret.name)) }
        var substituted: [String] = []
        var headers = HTTPHeaders()
        for (name, value) in head.headers {
            if let secret = PlaceholderScanner.first(in: name, of: secrets) {
                return .failure(.badRequest("the placeholder of \(secret.name) is in a header name; the request was not sent"))
            }
            var written = value
            for secret in secrets where written.contains(secret.placeholder) {
                guard secret.isBound(to: target.host, port: target.port) else {
                    return .failure(.placeholderUnbound(secret: secret.name, target))
                }
                written = written.replacingOccurrences(of: secret.placeholder, with: secret.value)
                if !substituted.contains(secret.name) { substituted.append(secret.name) }
            }
            headers.add(name: name, value: written)
        }
        var out = head
        out.headers = headers
        return .success((out, substituted.sorted()))
    }
}
