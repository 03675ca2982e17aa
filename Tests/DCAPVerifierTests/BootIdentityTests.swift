import DCAPVerifier
import Foundation
import Testing

/// Identity only from boot: dstack's simulator log, and the same log with events an application could add.
@Suite("Boot-time identity from the event log")
struct BootIdentityTests {
    /// The simulator's events as plain dictionaries (read by Foundation, not by the code under test).
    static func simulatorEvents() throws -> [[String: Any]] {
        try #require(JSONSerialization.jsonObject(with: Data(try Vectors.data("dstack/simulator_v055_eventlog.json"))) as? [[String: Any]])
    }

    static func entries(_ events: [[String: Any]]) throws -> [EventLogEntry] {
        try EventLog.decode(Array(try JSONSerialization.data(withJSONObject: events)))
    }

    static func runtimeEvent(_ name: String, _ payloadHex: String) -> [String: Any] {
        ["imr": 3, "event_type": 0x0800_0001, "digest": "", "event": name, "event_payload": payloadHex]
    }

    /// The payload of the simulator's first event named `name`, as the file has it.
    static func payload(_ name: String) throws -> String {
        try #require(try simulatorEvents().first { $0["event"] as? String == name }?["event_payload"] as? String)
    }

    @Test("The simulator's log: app id, compose hash, instance id before boot-mr-done, the key provider before system-ready, no runtime events")
    func simulator() throws {
        let identity = try BootIdentity.read(from: try Self.entries(try Self.simulatorEvents()))
        #expect(identity.appID == "ea549f02e1a25fabd1cb788380e033ec5461b2ff")
        #expect(identity.composeHash == "ea549f02e1a25fabd1cb788380e033ec5461b2ffe4328d753642cf035452e48b")
        #expect(identity.instanceID == (try Self.payload("instance-id")).lowercased())
        #expect(identity.keyProvider?.hasPrefix("{\"name\":\"kms\"") == true)
        #expect(identity.runtimeEvents.isEmpty)
    }

    @Test("A compose-hash after system-ready is a runtime event, never the compose hash")
    func lateComposeHash() throws {
        let forged = String(repeating: "ab", count: 32)
        let identity = try BootIdentity.read(from: try Self.entries(try Self.simulatorEvents() + [Self.runtimeEvent("compose-hash", forged)]))
        #expect(identity.composeHash == "ea549f02e1a25fabd1cb788380e033ec5461b2ffe4328d753642cf035452e48b")
        #expect(identity.runtimeEvents == ["compose-hash (after system-ready)"])
    }

    @Test("An app-id between boot-mr-done and system-ready does not count either; a key-provider there does")
    func betweenMarkers() throws {
        var events = try Self.simulatorEvents()
        let bootDone = try #require(events.firstIndex { $0["event"] as? String == "boot-mr-done" })
        events.insert(Self.runtimeEvent("app-id", String(repeating: "cd", count: 20)), at: bootDone + 1)
        let identity = try BootIdentity.read(from: try Self.entries(events))
        #expect(identity.appID == "ea549f02e1a25fabd1cb788380e033ec5461b2ff")
        #expect(identity.runtimeEvents == ["app-id (after boot-mr-done)"])
    }

    @Test("Two identity events of one name before the marker are an error", arguments: ["app-id", "compose-hash", "instance-id", "key-provider"])
    func duplicate(name: String) throws {
        var events = try Self.simulatorEvents()
        let original = try #require(events.firstIndex { $0["event"] as? String == name })
        events.insert(Self.runtimeEvent(name, "00"), at: original + 1)
        #expect { try BootIdentity.read(from: try Self.entries(events)) } throws: { "\($0)".contains("a second \(name) event before") }
    }
}
