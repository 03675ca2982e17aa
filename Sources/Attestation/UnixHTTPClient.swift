import Foundation

/// HTTP/1.1 over a unix socket, for the guest agent: one request per connection, a deadline on every
/// step (connect, write, read), and `Content-Length` or chunked replies. Runs on its own thread, so a slow
/// agent never blocks the cooperative pool.
struct UnixHTTPClient: Sendable {
    let socketPath: String
    let timeout: Duration

    /// POSTs `body` (JSON) to `path` and returns the status and body.
    func post(_ path: String, body: [UInt8]) async throws(AttestationError) -> (status: Int, body: [UInt8]) {
        let request = Array("POST \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8) + body
        let socketPath = self.socketPath
        let milliseconds = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let result: Result<[UInt8], AttestationError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: Result { () throws(AttestationError) in
                    try Self.exchange(socketPath: socketPath, request: request, timeoutMilliseconds: milliseconds)
                })
            }
            thread.start()
        }
        return try Self.parse(try result.get(), from: socketPath)
    }

    private static func exchange(socketPath: String, request: [UInt8], timeoutMilliseconds: Int32) throws(AttestationError) -> [UInt8] {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw AttestationError("cannot create a unix socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw AttestationError("socket path too long: \(socketPath)") }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if connected != 0 {
            guard errno == EINPROGRESS || errno == EAGAIN else {
                throw AttestationError("cannot connect to the guest agent at \(socketPath): \(String(cString: strerror(errno)))")
            }
            try wait(fd, for: Int16(POLLOUT), timeoutMilliseconds, "connecting to \(socketPath)")
        }
        var sent = 0
        while sent < request.count {
            let count = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count > 0 { sent += count; continue }
            guard count < 0, errno == EAGAIN || errno == EINTR else { throw AttestationError("the guest agent at \(socketPath) closed the connection") }
            try wait(fd, for: Int16(POLLOUT), timeoutMilliseconds, "writing to \(socketPath)")
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count > 0 {
                response += buffer[0..<count]
                guard response.count <= 16 << 20 else { throw AttestationError("the guest agent's reply is larger than 16 MiB") }
                continue
            }
            if count == 0 { return response }
            guard errno == EAGAIN || errno == EINTR else { throw AttestationError("reading from \(socketPath): \(String(cString: strerror(errno)))") }
            try wait(fd, for: Int16(POLLIN), timeoutMilliseconds, "waiting for the guest agent at \(socketPath)")
        }
    }

    private static func wait(_ fd: Int32, for events: Int16, _ milliseconds: Int32, _ what: String) throws(AttestationError) {
        var descriptor = pollfd(fd: fd, events: events, revents: 0)
        let ready = poll(&descriptor, 1, milliseconds)
        guard ready > 0 else { throw AttestationError(ready == 0 ? "timed out \(what) after \(milliseconds) ms" : "poll failed \(what)") }
        if descriptor.revents & Int16(POLLERR) != 0 && events == Int16(POLLOUT) {
            throw AttestationError("cannot connect to the guest agent (\(what))")
        }
    }

    /// Splits an HTTP/1.1 response into status and body (Content-Length, chunked, or until close).
    static func parse(_ response: [UInt8], from source: String) throws(AttestationError) -> (status: Int, body: [UInt8]) {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let headerEnd = response.firstRange(of: separator) else {
            throw AttestationError("the guest agent at \(source) sent no HTTP response")
        }
        let head = String(decoding: response[..<headerEnd.lowerBound], as: UTF8.self).split(separator: "\r\n")
        let statusParts = head.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw AttestationError("the guest agent at \(source) sent a malformed status line")
        }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(response[headerEnd.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            var decoded: [UInt8] = []
            var rest = body[...]
            while let lineEnd = rest.firstRange(of: [13, 10]) {
                let sizeText = String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                    throw AttestationError("the guest agent sent a malformed chunk size")
                }
                if size == 0 { break }
                let start = lineEnd.upperBound
                guard rest.distance(from: start, to: rest.endIndex) >= size + 2 else { throw AttestationError("the guest agent's reply was cut short") }
                decoded += rest[start..<(start + size)]
                rest = rest[(start + size + 2)...]
            }
            body = decoded
        } else if let length = headers["content-length"].flatMap(Int.init) {
            guard body.count >= length else { throw AttestationError("the guest agent's reply was cut short (\(body.count) of \(length) bytes)") }
            body = Array(body.prefix(length))
        }
        return (status, body)
    }
}
