import Attestation
import DCAPVerifier
import Foundation
import Hummingbird
import Logging

/// `oauth3-enclave dev-guest-agent`: the development guest agent, serving dstack's API (`/GetQuote`,
/// `/GetKey`, `/Info`) on a unix socket, so the daemon talks to it exactly as to `/var/run/dstack.sock`.
public enum DevGuestAgentServer {
    /// The application serving `authority` on `socketPath` (an existing socket file is replaced).
    public static func application(
        authority: DevelopmentAuthority, socketPath: String, logger: Logger, onReady: @escaping @Sendable () async -> Void = {}
    ) -> some ApplicationProtocol {
        unlink(socketPath)
        let router = Router()
        router.post("/GetQuote") { request, context -> Response in
            let body = try await request.decode(as: QuoteRequest.self, context: context)
            guard let data = bytes(fromHex: body.reportData), data.count <= 64 else {
                throw HTTPError(.badRequest, message: "report_data must be hex of at most 64 bytes")
            }
            let reply = try authority.quote(reportData: data)
            return try json(["quote": reply.quote.hexString, "event_log": reply.eventLogJSON])
        }
        router.post("/GetKey") { request, context -> Response in
            let body = try await request.decode(as: KeyRequest.self, context: context)
            let key = authority.key(path: body.path, purpose: body.purpose ?? "")
            return try json(["key": key.hexString])
        }
        router.post("/Info") { _, _ -> Response in
            let data = try JSONEncoder().encode(authority.info)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        return Application(
            router: router, configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: "oauth3-dev-guest-agent"),
            onServerRunning: { _ in
                chmod(socketPath, 0o600)
                await onReady()
            },
            logger: logger)
    }

    private static func json(_ object: [String: String]) throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(object))))
    }

    private struct QuoteRequest: Decodable {
        let reportData: String
        enum CodingKeys: String, CodingKey { case reportData = "report_data" }
    }

    private struct KeyRequest: Decodable {
        let path: String
        let purpose: String?
    }
}

/// A seed file for the development agent: 32 random bytes, created 0600 on first use, reused after.
public enum DevSeed {
    public static func load(path: String) throws -> [UInt8] {
        if let data = FileManager.default.contents(atPath: path) {
            guard data.count == 32 else { throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: path]) }
            return Array(data)
        }
        var generator = SystemRandomNumberGenerator()
        let seed = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        defer { close(fd) }
        _ = seed.withUnsafeBytes { write(fd, $0.baseAddress, 32) }
        return seed
    }
}
