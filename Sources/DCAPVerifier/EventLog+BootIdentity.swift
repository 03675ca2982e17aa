/// The application's identity as dstack's boot code measured it into RTMR3, and nothing an application
/// could add later.
///
/// RTMR3 is extendable by anything in the guest with the rights to do so: after boot, dstack's guest agent
/// lets the application emit its own events (`EmitEvent`), and privileged code can write more. Only the
/// events dstack's boot code writes before its markers are identity. dstack reads them the same way
/// (`find_event` in `dstack-attest/src/attestation.rs` stops at `system-ready`; its KMS pins the RTMR3 value
/// at `boot-mr-done`; `docs/security/security-best-practices.md`: "select the expected claim before
/// `boot-mr-done`/`system-ready`, reject duplicate trusted claim names"). The order dstack writes
/// (`dstack-util/src/system_setup.rs`): `system-preparing`, `app-id`, `compose-hash`, `instance-id`,
/// `boot-mr-done`, `key-provider`, (`os-image-hash` with a KMS), `storage-fs`, `system-ready`.
///
/// So:
/// - `app-id`, `compose-hash` and `instance-id` count only before the first `boot-mr-done` (before the first
///   `system-ready` if a log has no `boot-mr-done`);
/// - `key-provider` and `os-image-hash` count only before the first `system-ready`;
/// - an identity event after its marker is a runtime event: listed in ``runtimeEvents``, never identity;
/// - two identity events of one name before the marker are an error: nothing can say which is meant.
public struct BootIdentity: Sendable, Hashable {
    /// The dstack app id, hex.
    public var appID: String?
    /// SHA-256 of the app-compose.json dstack started, hex.
    public var composeHash: String?
    /// The instance id, hex.
    public var instanceID: String?
    /// The key provider's description (JSON text), as dstack states it.
    public var keyProvider: String?
    /// The OS image hash the KMS stated, hex, when the log has it.
    public var osImageHash: String?
    /// Every RTMR3 event after the boot boundary, as `name (after system-ready)`, in order: the
    /// application's own, which an auditor may read but which never set identity.
    public var runtimeEvents: [String] = []

    /// An empty identity: nothing stated.
    public init() {}

    /// The boot-time identity in `entries` (which should already replay to the quote's RTMRs).
    /// - Throws: when an identity event appears twice before its marker.
    public static func read(from entries: [EventLogEntry]) throws(QuoteParseError) -> BootIdentity {
        var identity = BootIdentity()
        var bootMeasured = false
        var systemReady = false
        let runtime = entries.enumerated().filter { $0.element.imr == 3 && $0.element.eventType == EventLog.runtimeEventType }
        let hasBootMarker = runtime.contains { $0.element.event == Marker.bootMeasured }
        for (index, entry) in runtime {
            let name = entry.event
            if systemReady {
                identity.runtimeEvents.append("\(name) (after \(Marker.systemReady))")
                continue
            }
            switch name {
            case Marker.bootMeasured: bootMeasured = true; continue
            case Marker.systemReady: systemReady = true; continue
            default: break
            }
            let boundary: String
            let counts: Bool
            switch name {
            case "app-id", "compose-hash", "instance-id":
                boundary = hasBootMarker ? Marker.bootMeasured : Marker.systemReady
                counts = !bootMeasured
            case "key-provider", "os-image-hash":
                boundary = Marker.systemReady
                counts = true
            default:
                continue
            }
            guard counts else {
                identity.runtimeEvents.append("\(name) (after \(boundary))")
                continue
            }
            func set(_ slot: inout String?, _ value: String) throws(QuoteParseError) {
                guard slot == nil else { throw QuoteParseError("event \(index): a second \(name) event before \(boundary); a boot states its identity once") }
                slot = value
            }
            let hex = entry.eventPayload.lowercased()
            switch name {
            case "app-id": try set(&identity.appID, hex)
            case "compose-hash": try set(&identity.composeHash, hex)
            case "instance-id": try set(&identity.instanceID, hex)
            case "os-image-hash": try set(&identity.osImageHash, hex)
            default: try set(&identity.keyProvider, bytes(fromHex: hex).map { String(decoding: $0, as: UTF8.self) } ?? hex)
            }
        }
        return identity
    }

    /// dstack's boot markers.
    public enum Marker {
        /// Written once the boot measurements (app id, compose hash, instance id) are in.
        public static let bootMeasured = "boot-mr-done"
        /// Written when dstack hands the system to the application: later events are the application's.
        public static let systemReady = "system-ready"
    }
}
