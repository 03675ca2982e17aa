import Foundation

/// The head of one request a job sent to its proxy: `CONNECT host:port` (a tunnel, for HTTPS) or a
/// plain-HTTP request in absolute form (`GET http://host:port/path`).
///
/// Parsed strictly, because the parse decides where bytes go: one request line, CRLF line ends, no
/// folded headers, no user info in the URL, ports in range. Anything else is a ``EgressRefusal/badRequest(_:)``.
public enum ProxyRequest: Sendable, Hashable {
    /// `CONNECT`: after `200`, bytes flow both ways untouched (TLS end to end).
    case connect(ProxyTarget)
    /// Plain HTTP: the head to send upstream, rewritten to origin form with `Connection: close` (so one
    /// proxy connection carries one request, to the one host that was checked), or `Connection: Upgrade`
    /// for a WebSocket handshake.
    case http(ProxyTarget, upstreamHead: [UInt8])

    /// The largest request head the proxy reads.
    public static let maxHeadBytes = 16 * 1024

    /// The host and port asked for.
    public var target: ProxyTarget {
        switch self {
        case .connect(let target), .http(let target, _): target
        }
    }

    /// Where the head ends (the index just past `CRLF CRLF`), or `nil` if it has not ended yet.
    public static func headLength(in bytes: some Collection<UInt8>) -> Int? {
        let array = Array(bytes)
        guard array.count >= 4 else { return nil }
        for index in 3..<array.count where array[index] == 10 && array[index - 1] == 13 && array[index - 2] == 10 && array[index - 3] == 13 {
            return index + 1
        }
        return nil
    }

    /// Parses a complete head (including the final empty line).
    public static func parse(_ head: [UInt8]) -> Result<ProxyRequest, EgressRefusal> {
        guard head.count <= maxHeadBytes else { return .failure(.badRequest("head longer than \(maxHeadBytes) bytes")) }
        // Bytes, not Characters: "\r\n" is a single Character in Swift.
        guard head.count >= 4, head.suffix(4).elementsEqual([13, 10, 13, 10]),
            let text = String(validating: head.dropLast(4), as: UTF8.self)
        else {
            return .failure(.badRequest("head is not UTF-8 text ending in an empty line"))
        }
        var lines = text.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst()
        if lines.contains(where: { $0.contains("\n") || $0.contains("\r") }) || requestLine.contains("\n") {
            return .failure(.badRequest("bare line feed"))
        }
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2] == "HTTP/1.1" || parts[2] == "HTTP/1.0", !parts[0].isEmpty,
            parts[0].allSatisfy({ $0.isASCII && $0.isUppercase })
        else {
            return .failure(.badRequest("request line '\(printable(requestLine))'"))
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex, !line.hasPrefix(" "), !line.hasPrefix("\t"),
                line[..<colon].allSatisfy({ $0.isASCII && !$0.isWhitespace })
            else {
                return .failure(.badRequest("header line '\(printable(line))'"))
            }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: [" ", "\t"])))
        }
        let method = String(parts[0])
        let target = String(parts[1])
        if method == "CONNECT" {
            return authority(target).map { .connect($0) }
        }
        guard target.lowercased().hasPrefix("http://") else {
            return .failure(.badRequest("\(method) \(printable(target)): a plain-HTTP request needs an absolute http:// URL (HTTPS goes through CONNECT)"))
        }
        let rest = target.dropFirst("http://".count)
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authorityText = String(rest[..<authorityEnd])
        var path = String(rest[authorityEnd...])
        if path.hasPrefix("?") || path.isEmpty { path = "/" + path }
        if let hash = path.firstIndex(of: "#") { path = String(path[..<hash]) }
        let parsed: ProxyTarget
        switch authority(authorityText.contains(":") && !authorityText.hasSuffix("]") ? authorityText : authorityText + ":80") {
        case .success(let value): parsed = value
        case .failure(let refusal): return .failure(refusal)
        }
        var upstream = "\(method) \(path) HTTP/1.1\r\nHost: \(authorityText)\r\n"
        let hopByHop: Set<String> = ["host", "connection", "proxy-connection", "proxy-authorization", "keep-alive", "te", "upgrade"]
        for header in headers where !hopByHop.contains(header.name.lowercased()) {
            upstream += "\(header.name): \(header.value)\r\n"
        }
        // A WebSocket handshake (`ws://`) keeps its upgrade: what follows still goes only to the vetted address.
        if let upgrade = headers.first(where: { $0.name.lowercased() == "upgrade" }) {
            upstream += "Upgrade: \(upgrade.value)\r\nConnection: Upgrade\r\n\r\n"
        } else {
            upstream += "Connection: close\r\n\r\n"
        }
        return .success(.http(parsed, upstreamHead: Array(upstream.utf8)))
    }

    /// `host:port` or `[v6]:port`, port 1–65535, host without user info or spaces.
    static func authority(_ text: String) -> Result<ProxyTarget, EgressRefusal> {
        guard let colon = text.lastIndex(of: ":"), !text.contains("@") else {
            return .failure(.badRequest("'\(printable(text))' is not host:port"))
        }
        let host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard !host.isEmpty, !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
            let port = Int(portText), (1...65535).contains(port),
            host.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "/" })
        else {
            return .failure(.badRequest("'\(printable(text))' is not host:port"))
        }
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), IPAddress(String(host.dropFirst().dropLast())) != nil else {
                return .failure(.badRequest("'\(printable(text))' is not host:port"))
            }
        } else if host.contains(":") {
            return .failure(.badRequest("'\(printable(text))' is not host:port"))
        }
        return .success(ProxyTarget(host: host.hasSuffix(".") ? String(host.dropLast()) : host, port: port))
    }

    /// At most 120 characters of `text`, control characters escaped, for an error message.
    static func printable(_ text: some StringProtocol) -> String {
        String(text.prefix(120).unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
    }
}
