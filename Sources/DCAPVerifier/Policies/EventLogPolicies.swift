/// The event log must replay to the quote's RTMRs (and state its boot identity once).
public struct EventLogReplayPolicy: AttestationPolicy {
    public var name: String { "event_log_replay" }
    public init() {}
    public func evaluate(_ evidence: AttestationEvidence) -> PolicyVerdict {
        switch evidence.eventLog {
        case .absent: .failsToMeetPolicy(reason: "no event log")
        case .invalid(let reason): .failsToMeetPolicy(reason: reason)
        case .replays(let identity):
            .meetsPolicy("the event log replays to RTMR0–3" + (identity.runtimeEvents.isEmpty ? "" : "; runtime events (not identity): " + identity.runtimeEvents.joined(separator: ", ")))
        }
    }
}

/// One boot-time identity value must be what the auditor expects: the compose hash or the app id.
///
/// It is read only from a log that replays, and only from the events dstack's boot code wrote before
/// its markers (``BootIdentity``); a later event of the same name is named in the reason, never used.
public struct BootIdentityPolicy: AttestationPolicy {
    /// Which identity value.
    public enum Field: String, Sendable {
        case composeHash = "compose-hash"
        case appID = "app-id"
    }

    public let field: Field
    public let expected: String
    public var name: String { field == .composeHash ? "compose_hash" : "app_id" }
    private var label: String { field == .composeHash ? "compose hash" : "app id" }

    public init(_ field: Field, expected: String) {
        self.field = field
        self.expected = expected.lowercased()
    }

    public func evaluate(_ evidence: AttestationEvidence) -> PolicyVerdict {
        switch evidence.eventLog {
        case .absent:
            return .failsToMeetPolicy(reason: "expected \(label) \(expected), but there is no event log to state one")
        case .invalid(let reason):
            return .failsToMeetPolicy(reason: "expected \(label) \(expected), but the event log proves nothing (\(reason))")
        case .replays(let identity):
            let stated = field == .composeHash ? identity.composeHash : identity.appID
            let late = identity.runtimeEvents.filter { $0.hasPrefix(field.rawValue + " ") }
            let lateNote = late.isEmpty ? "" : "; ignored as runtime events, not identity: " + late.joined(separator: ", ")
            guard stated == expected else {
                return .failsToMeetPolicy(reason: "the boot event log states \(label) \(stated ?? "none"); expected \(expected)" + lateNote)
            }
            return .meetsPolicy("the boot event log states \(label) \(expected)" + lateNote)
        }
    }
}

/// The TD must not be a debug TD (its memory would be readable by the host).
public struct NotDebugTDPolicy: AttestationPolicy {
    public var name: String { "td_not_debug" }
    public init() {}
    public func evaluate(_ evidence: AttestationEvidence) -> PolicyVerdict {
        guard let report = evidence.report else { return .failsToMeetPolicy(reason: "not a TDX quote") }
        return report.isDebug ? .failsToMeetPolicy(reason: "a debug TD: its memory is readable by the host") : .meetsPolicy("not a debug TD")
    }
}

/// The quote's report_data must be the expected binding (a result hash, keys and a nonce).
public struct ReportDataPolicy: AttestationPolicy {
    public let expected: [UInt8]
    /// What the binding is, for the report (`SHA-512(domain ‖ result hash)`).
    public let binding: String
    public var name: String { "report_data_binding" }
    public init(expected: [UInt8], binding: String) {
        self.expected = expected
        self.binding = binding
    }
    public func evaluate(_ evidence: AttestationEvidence) -> PolicyVerdict {
        evidence.quote.reportData == expected
            ? .meetsPolicy("the quote's report_data is \(binding)") : .failsToMeetPolicy(reason: "the quote's report_data is not \(binding)")
    }
}
