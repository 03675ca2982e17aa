import DCAPVerifier
import Foundation

/// The guest agent's HTTP API over its unix socket (dstack's `/var/run/dstack.sock`, or the development
/// agent's): `POST /GetQuote {report_data: hex}`, `POST /GetKey {path, purpose}`, `POST /Info`.
public struct DstackGuestAgent: GuestAgent {
    public let socketPath: String
    public let name: String
    let client: UnixHTTPClient

    /// - Parameters:
    ///   - socketPath: the agent's socket.
    ///   - kind: `dstack` or `development`, for `name`.
    ///   - timeout: for each step of each request.
    public init(socketPath: String, kind: String = "dstack", timeout: Duration = .seconds(10)) {
        self.socketPath = socketPath
        self.name = "\(kind):\(socketPath)"
        self.client = UnixHTTPClient(socketPath: socketPath, timeout: timeout)
    }

    public func quote(reportData: [UInt8]) async throws(AttestationError) -> QuoteReply {
        guard reportData.count <= 64 else { throw AttestationError("report_data is \(reportData.count) bytes; at most 64") }
        let padded = reportData + [UInt8](repeating: 0, count: 64 - reportData.count)
        let reply: QuoteJSON = try await call("/GetQuote", ["report_data": padded.hexString])
        guard let quote = DCAPVerifier.bytes(fromHex: reply.quote) else { throw AttestationError("GetQuote: 'quote' is not hex") }
        return QuoteReply(quote: quote, eventLogJSON: reply.eventLog ?? "[]")
    }

    public func key(path: String, purpose: String) async throws(AttestationError) -> [UInt8] {
        let reply: KeyJSON = try await call("/GetKey", ["path": path, "purpose": purpose])
        guard let key = DCAPVerifier.bytes(fromHex: reply.key), key.count >= 32 else {
            throw AttestationError("GetKey: 'key' is not hex of at least 32 bytes")
        }
        return key
    }

    public func info() async throws(AttestationError) -> GuestInfo {
        try await call("/Info", [String: String]())
    }

    private func call<Reply: Decodable>(_ path: String, _ body: [String: String]) async throws(AttestationError) -> Reply {
        let request = (try? JSONEncoder().encode(body)).map(Array.init) ?? []
        let (status, reply) = try await client.post(path, body: request)
        guard (200..<300).contains(status) else {
            throw AttestationError("\(path) answered HTTP \(status): \(String(decoding: reply.prefix(300), as: UTF8.self))")
        }
        do {
            return try JSONDecoder().decode(Reply.self, from: Data(reply))
        } catch {
            throw AttestationError("\(path) answered malformed JSON: \(error)")
        }
    }

    private struct QuoteJSON: Decodable {
        let quote: String
        let eventLog: String?
        enum CodingKeys: String, CodingKey { case quote, eventLog = "event_log" }
    }

    private struct KeyJSON: Decodable { let key: String }
}
