import Crypto
import Foundation
import OAuth3Wire

/// One event of a dstack event log (the JSON the guest agent returns with a quote).
public struct EventLogEntry: Codable, Sendable, Hashable {
    /// 0–3: which RTMR the event extends.
    public var imr: Int
    public var eventType: UInt32
    /// SHA-384 of the event, hex; may be empty for runtime events (recomputed, never trusted or padded).
    public var digest: String
    /// The runtime event's name (`app-id`, `compose-hash`, …); empty for boot events.
    public var event: String
    /// Hex.
    public var eventPayload: String
    /// How a runtime event's digest is formed: absent or 1 (the original form), 2 (canonical JSON).
    public var version: Int?

    public init(imr: Int, eventType: UInt32, digest: String, event: String, eventPayload: String, version: Int? = nil) {
        self.imr = imr
        self.eventType = eventType
        self.digest = digest
        self.event = event
        self.eventPayload = eventPayload
        self.version = version
    }

    enum CodingKeys: String, CodingKey { case imr, eventType = "event_type", digest, event, eventPayload = "event_payload", version }
}

/// Replays an event log into RTMR values, and reads the application's identity from its runtime events.
public enum EventLog {
    /// The event type dstack uses for its runtime (RTMR3) events.
    public static let runtimeEventType: UInt32 = 0x0800_0001

    /// Decodes the JSON array a guest agent returns.
    public static func decode(_ json: [UInt8]) throws(QuoteParseError) -> [EventLogEntry] {
        do {
            return try StrictJSON.decode([EventLogEntry].self, from: json)
        } catch {
            throw QuoteParseError("event log is not a JSON array of {imr, event_type, digest, event, event_payload}: \(error)")
        }
    }

    /// The digest of a runtime event. Version 1: SHA-384(le32(event_type) ‖ ":" ‖ name ‖ ":" ‖ payload).
    /// Version 2 (newer dstack): SHA-384 of the RFC 8785 canonical JSON
    /// `{"event":name,"event_type":134217729,"payload":lowercase hex,"version":2}`.
    public static func runtimeDigest(name: String, payload: [UInt8], version: Int = 1) -> [UInt8] {
        if version == 2 {
            let canonical = CanonicalJSON.encode(.object([
                "event": .string(name), "event_type": .number(Double(runtimeEventType)),
                "payload": .string(payload.hexString), "version": .number(2),
            ]))
            return Array(SHA384.hash(data: canonical))
        }
        var message = withUnsafeBytes(of: runtimeEventType.littleEndian, Array.init)
        message += Array(":".utf8) + Array(name.utf8) + Array(":".utf8) + payload
        return Array(SHA384.hash(data: message))
    }

    /// Replays every event: RTMR[i] = SHA-384(RTMR[i] ‖ digest), from 48 zero bytes.
    /// - Throws: for a malformed event, or a runtime event whose stated digest is not its name and payload's.
    public static func replay(_ entries: [EventLogEntry]) throws(QuoteParseError) -> [[UInt8]] {
        var rtmrs = Array(repeating: [UInt8](repeating: 0, count: 48), count: 4)
        for (index, entry) in entries.enumerated() {
            guard (0...3).contains(entry.imr) else { throw QuoteParseError("event \(index): imr \(entry.imr) is not 0–3") }
            guard let payload = bytes(fromHex: entry.eventPayload) else { throw QuoteParseError("event \(index): event_payload is not hex") }
            let stated = bytes(fromHex: entry.digest) ?? []
            let digest: [UInt8]
            if entry.eventType == runtimeEventType {
                let version = entry.version ?? 1
                guard version == 1 || version == 2 else { throw QuoteParseError("event \(index) (\(entry.event)): unknown digest version \(version)") }
                digest = runtimeDigest(name: entry.event, payload: payload, version: version)
                guard stated.isEmpty || stated == digest else {
                    throw QuoteParseError("event \(index) (\(entry.event)): stated digest is not SHA-384 of its name and payload")
                }
            } else {
                guard stated.count == 48 else { throw QuoteParseError("event \(index): digest must be 48 bytes (SHA-384), got \(stated.count)") }
                digest = stated
            }
            rtmrs[entry.imr] = Array(SHA384.hash(data: rtmrs[entry.imr] + digest))
        }
        return rtmrs
    }
}
