import Crypto
import DCAPVerifier
import Foundation
import TestSupport
import Testing

/// Real quotes and event logs from TDX and SGX machines (`Tests/Vectors`, copied from the team's shared vectors; see its README).
enum Vectors {
    static let directory = Fixture.repository.appendingPathComponent("Tests/Vectors")
    static func data(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(path).path) else {
            throw POSIXError(.ENOENT)
        }
        return Array(data)
    }
    static func hex(_ path: String) throws -> [UInt8] {
        try #require(bytes(fromHex: String(decoding: try data(path), as: UTF8.self)))
    }
}

@Suite("Quote parsing and event-log replay")
struct ParsingTests {
    @Test("TDX v4: every field where the layout puts it")
    func tdxV4() throws {
        let quote = try Quote.parse(try Vectors.data("dcap/tdx_quote.bin"))
        #expect(quote.header.version == 4 && quote.isTDX && quote.header.attestationKeyType == 2)
        #expect(quote.signedBytes.count == 632)
        guard case .td(let report) = quote.body else { Issue.record("not a TD body"); return }
        let raw = try Vectors.data("dcap/tdx_quote.bin")
        #expect(report.mrTD == Array(raw[184..<232]))
        #expect(report.rtmrs[3] == Array(raw[520..<568]))
        #expect(report.reportData == Array(raw[568..<632]))
        #expect(!report.isDebug)
        #expect(quote.signature.attestationKey == Array(raw[700..<764]))
        #expect(quote.signature.qeAuthData.count == 32)
        #expect(quote.signature.pckChainPEM.components(separatedBy: "BEGIN CERTIFICATE").count == 4)
    }

    @Test("Hex quotes with and without 0x, SGX v3 and TDX v5 parse")
    func otherForms() throws {
        #expect(try Quote.parse(Vectors.hex("dcap/tdx_quote_parse_only.hex")).isTDX)
        #expect(try Quote.parse(Vectors.hex("dcap/tappd_quote_parse_only.hex")).isTDX)
        let sgx = try Quote.parse(Vectors.data("dcap/sgx_quote.bin"))
        #expect(sgx.header.version == 3 && !sgx.isTDX)
        let v5 = try Quote.parse(Vectors.data("dcap/tdx_quote_v5_outdated.bin"))
        #expect(v5.header.version == 5)
        if case .td(let report) = v5.body { #expect(report.teeTCBSVN2 != nil) } else { Issue.record("v5 is not a TD body") }
    }

    @Test("Replaying dstack's event log gives RTMR0–3 of its quote exactly, and names the application")
    func replay() throws {
        let quote = try Quote.parse(Vectors.hex("dstack/simulator_v055_quote.hex"))
        let entries = try EventLog.decode(Vectors.data("dstack/simulator_v055_eventlog.json"))
        guard case .td(let report) = quote.body else { Issue.record("not a TD body"); return }
        #expect(try EventLog.replay(entries) == report.rtmrs)
        #expect(entries.filter { $0.imr == 3 }.map(\.event) == ["system-preparing", "app-id", "compose-hash", "instance-id", "boot-mr-done", "key-provider", "system-ready"])
        let application = try BootIdentity.read(from: entries)
        #expect(application.appID == "ea549f02e1a25fabd1cb788380e033ec5461b2ff")
        #expect(application.composeHash?.count == 64 && application.keyProvider?.contains("kms") == true)
        // Empty runtime digests are recomputed, not trusted or padded: same RTMRs.
        let emptied = entries.map { entry in
            var entry = entry
            if entry.imr == 3 { entry.digest = "" }
            return entry
        }
        #expect(try EventLog.replay(emptied) == report.rtmrs)
        // A runtime event whose digest does not match its payload is refused.
        var forged = entries
        let index = forged.firstIndex { $0.event == "compose-hash" }!
        forged[index].eventPayload = String(repeating: "00", count: 32)
        #expect(throws: QuoteParseError.self) { try EventLog.replay(forged) }
    }

    @Test("Version-2 runtime events: SHA-384 of dstack's canonical JSON; mixed logs replay; wrong digests and versions are refused")
    func versionTwoEvents() throws {
        // The canonical forms dstack's own tests pin (cc-eventlog/src/runtime_events.rs).
        let pinned: [(String, [UInt8], String)] = [
            ("compose-hash", [0xab, 0xcd], #"{"event":"compose-hash","event_type":134217729,"payload":"abcd","version":2}"#),
            ("event\"with\\special\nchars", [0xff], #"{"event":"event\"with\\special\nchars","event_type":134217729,"payload":"ff","version":2}"#),
        ]
        for (name, payload, canonical) in pinned {
            #expect(EventLog.runtimeDigest(name: name, payload: payload, version: 2) == Array(SHA384.hash(data: Array(canonical.utf8))), "\(name)")
        }
        #expect(EventLog.runtimeDigest(name: "x", payload: [1], version: 2) != EventLog.runtimeDigest(name: "x", payload: [1]))

        func event(_ name: String, _ payload: [UInt8], version: Int?, digest: String = "") -> EventLogEntry {
            EventLogEntry(imr: 3, eventType: EventLog.runtimeEventType, digest: digest, event: name, eventPayload: payload.map { String(format: "%02x", $0) }.joined(), version: version)
        }
        let log = [event("app-id", [1, 2], version: nil), event("compose-hash", [3, 4], version: 2), event("instance-id", [5, 6], version: 1)]
        var expected = [UInt8](repeating: 0, count: 48)
        for digest in [EventLog.runtimeDigest(name: "app-id", payload: [1, 2]), EventLog.runtimeDigest(name: "compose-hash", payload: [3, 4], version: 2),
                       EventLog.runtimeDigest(name: "instance-id", payload: [5, 6])] {
            expected = Array(SHA384.hash(data: expected + digest))
        }
        #expect(try EventLog.replay(log)[3] == expected)
        // The entry's JSON carries the version; decoding keeps it.
        let decoded = try EventLog.decode(Array(#"[{"imr":3,"event_type":134217729,"digest":"","event":"compose-hash","event_payload":"0304","version":2}]"#.utf8))
        #expect(decoded.first?.version == 2)
        // A version-2 event stating its version-1 digest, and an unknown version, are refused.
        let v1Digest = EventLog.runtimeDigest(name: "compose-hash", payload: [3, 4]).map { String(format: "%02x", $0) }.joined()
        #expect(throws: QuoteParseError.self) { try EventLog.replay([event("compose-hash", [3, 4], version: 2, digest: v1Digest)]) }
        #expect(throws: QuoteParseError.self) { try EventLog.replay([event("compose-hash", [3, 4], version: 3)]) }
    }

    @Test("Hex: both cases, an optional 0x, surrounding whitespace; nothing else")
    func hex() {
        #expect(bytes(fromHex: " 0x00fFa9\n") == [0x00, 0xff, 0xa9])
        #expect(bytes(fromHex: "") == [])
        for bad in ["+f", "-0", "0", "0g", "0 0", "0x0x00", "١٢"] { #expect(bytes(fromHex: bad) == nil, "\(bad)") }
    }

    @Test("Truncated and mutated quotes are errors, never crashes")
    func mutations() throws {
        let raw = try Vectors.data("dcap/tdx_quote.bin")
        // Everything up to the end of the signature data is needed (the vector has zero padding after it).
        let needed = 636 + Int(raw[632]) + Int(raw[633]) << 8
        for length in stride(from: 0, to: needed, by: 7) {
            #expect(throws: QuoteParseError.self) { try Quote.parse(Array(raw.prefix(length))) }
        }
        // Any outcome but a crash; a crash kills the run, so the seed is printed before it starts.
        var generator = SeededRandom()
        print("quote mutations: \(generator)")
        for _ in 0..<2000 {
            var mutated = raw
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                mutated[Int.random(in: 0..<mutated.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? Quote.parse(mutated)
        }
    }
}
