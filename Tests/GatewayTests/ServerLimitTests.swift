import Crypto
import Foundation
import OAuth3Client
import OAuth3Wire
import TestSupport
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real daemon process: what slow clients, signals and its log show.
@Suite("A server slow clients cannot starve, a shutdown held long-polls cannot stall, a log without credentials", .serialized, .timeLimit(.minutes(3)), .stopsDaemons)
struct ServerLimitTests {
    @Test("1,100 idle, half-sent requests on a daemon started with a soft descriptor limit of 1024: /healthz answers, and the idle ones are closed")
    func idleConnections() async throws {
        Self.raiseOwnDescriptorLimit(to: 4096)
        let daemon = try await DaemonProcess.start(softOpenFiles: 1024, environment: ["OAUTH3_IDLE_TIMEOUT": "3"])
        // The daemon raised its own soft limit to hold its connections.
        #expect((daemon.softOpenFiles() ?? 0) > 4096, "soft limit \(String(describing: daemon.softOpenFiles()))")

        let sockets = try Self.halfSentRequests(1100, port: UInt16(daemon.url.port!))
        defer { for socket in sockets { close(socket) } }
        let health = try await Self.get(daemon.url.appendingPathComponent("healthz"))
        #expect(health.status == 200, "\(health.body)")
        let ready = try await Self.get(daemon.url.appendingPathComponent("readyz"))
        #expect(ready.status == 200, "\(ready.body)")

        // No head within the idle timeout (3 s): the server closes them; a read sees the end.
        var closed = 0
        let deadline = ContinuousClock.now + .seconds(15)
        while closed < sockets.count && ContinuousClock.now < deadline {
            closed = sockets.filter { Self.isClosedByPeer($0) }.count
            if closed < sockets.count { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(closed == sockets.count, "\(closed) of \(sockets.count) half-sent connections closed by the server")
    }

    @Test("At the connection limit, the longest-idle connections make room: /healthz answers at once though none has timed out yet")
    func idleConnectionsEvicted() async throws {
        Self.raiseOwnDescriptorLimit(to: 4096)
        let daemon = try await DaemonProcess.start(environment: ["OAUTH3_IDLE_TIMEOUT": "120", "OAUTH3_MAX_CONNECTIONS": "64"])
        let sockets = try Self.halfSentRequests(200, port: UInt16(daemon.url.port!))
        defer { for socket in sockets { close(socket) } }
        // Far past the limit, with a 120 s idle timeout: only eviction can let a new client in now.
        let health = try await Self.get(daemon.url.appendingPathComponent("healthz"))
        #expect(health.status == 200, "\(health.body)")
        let open = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.pid)/fd")) ?? []).filter { fd in
            ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(daemon.pid)/fd/\(fd)")) ?? "").hasPrefix("socket:")
        }
        #expect(open.count <= 64 + 16, "the daemon holds \(open.count) sockets with a limit of 64 connections")
        #expect(Self.isClosedByPeer(sockets[0]), "the oldest idle connection was not evicted")
    }

    @Test("SIGTERM with long-polls held open: each answers at once with the current status, and the daemon exits within its grace period")
    func sigtermAnswersLongPolls() async throws {
        let daemon = try await DaemonProcess.start()
        let base = daemon.url
        let account = try await OAuth3Client(baseURL: base, apiKey: nil).signup(name: "poller")
        let client = OAuth3Client(baseURL: base, apiKey: account.apiKey)
        let job = try await client.execute(.init(skillCode: hello))
        let polls = (0..<3).map { _ in Task { try await client.status(job.requestId, wait: true) } }
        // Wait until the daemon holds all three (they would wait 120 s), as its metrics say.
        try await waitUntil("the daemon holds the three long-polls", within: .seconds(10)) {
            (try? await Self.get(base.appendingPathComponent("metrics")).body.contains("oauth3_long_polls_held 3")) ?? false
        }
        let signalled = ContinuousClock.now
        daemon.signal(SIGTERM)
        for poll in polls {
            let answer = try await poll.value
            #expect(answer.status == "pending")
        }
        #expect(await daemon.waitForExit(within: .seconds(12)), "still running 12 s after SIGTERM (grace is 10 s)")
        let took = ContinuousClock.now - signalled
        #expect(took < .seconds(12), "exited after \(took)")
    }

    @Test("No API key, approval token or JWT reaches the log of a full flow at trace level")
    func noCredentialsInLog() async throws {
        let secret = String(repeating: "s", count: 40)
        let daemon = try await DaemonProcess.start(environment: ["OAUTH3_JWT_SECRET": secret], logLevel: "trace")
        let base = daemon.url
        let account = try await OAuth3Client(baseURL: base, apiKey: nil).signup(name: "logged")
        let client = OAuth3Client(baseURL: base, apiKey: account.apiKey)
        let job = try await client.execute(.init(skillCode: hello))
        let approvalURL = try #require(job.approvalUrl)
        let approvalToken = token(of: approvalURL)
        _ = try await Self.get(URL(string: approvalURL)!)
        var approval = URLRequest(url: base.appendingPathComponent("approve/\(job.requestId)"))
        approval.httpMethod = "POST"
        approval.setValue("application/json", forHTTPHeaderField: "Content-Type")
        approval.httpBody = decision(approvalToken)
        _ = try await URLSession.shared.data(for: approval)
        #expect(try await client.poll(job.requestId, timeout: .seconds(60)).status == "completed")
        // A wrong key and a wrong token are logged no more than right ones.
        _ = try? await OAuth3Client(baseURL: base, apiKey: "wrong-key-\(account.apiKey)").me()
        _ = try await Self.get(URL(string: approvalURL + "ff")!)
        let jwt = Self.jwt(tenant: "orchestrated-1", secret: secret)
        let orchestrated = try await OAuth3Client(baseURL: base, apiKey: jwt).me()
        #expect(orchestrated.tenantId == "orchestrated-1")

        daemon.signal(SIGTERM)
        _ = await daemon.waitForExit(within: .seconds(15))
        let log = daemon.log
        #expect(log.contains { $0.contains("request") }, "the trace log has request lines: \(log.count) lines")
        for (name, credential) in [("API key", account.apiKey), ("approval token", approvalToken), ("JWT", jwt), ("JWT signature", String(jwt.split(separator: ".").last!))] {
            #expect(!log.contains { $0.contains(credential) }, "the log holds the \(name)")
        }
    }

    // MARK: helpers

    static func raiseOwnDescriptorLimit(to count: rlim_t) {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < count {
            limit.rlim_cur = min(count, limit.rlim_max)
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
    }

    /// `count` connections, each with a request head that never ends.
    static func halfSentRequests(_ count: Int, port: UInt16) throws -> [Int32] {
        var sockets: [Int32] = []
        for _ in 0..<count {
            guard let socket = connect(port: port) else {
                for socket in sockets { close(socket) }
                throw POSIXError(.ECONNREFUSED)
            }
            _ = "GET /healthz HTTP/1.1\r\nHost: x\r\n".withCString { send(socket, $0, strlen($0), 0) }
            sockets.append(socket)
        }
        return sockets
    }

    static func connect(port: UInt16) -> Int32? {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(socket); return nil }
        return socket
    }

    /// Whether the peer closed `socket` (a non-blocking read sees the end, or a reset).
    static func isClosedByPeer(_ socket: Int32) -> Bool {
        var byte: UInt8 = 0
        let count = recv(socket, &byte, 1, Int32(MSG_DONTWAIT) | Int32(MSG_PEEK))
        return count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    static func get(_ url: URL) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: url)
        request.timeoutInterval = 10
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// An HS256 JWT made by hand (the test does not trust the code under test to make one).
    static func jwt(tenant: String, secret: String) -> String {
        func base64URL(_ data: Data) -> String {
            data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        let now = Int(Date().timeIntervalSince1970)
        let header = base64URL(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let claims = base64URL(Data(#"{"tenant_id":"\#(tenant)","plan":"free","iat":\#(now),"exp":\#(now + 600)}"#.utf8))
        let signature = HMAC<SHA256>.authenticationCode(for: Data("\(header).\(claims)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "\(header).\(claims).\(base64URL(Data(signature)))"
    }
}
