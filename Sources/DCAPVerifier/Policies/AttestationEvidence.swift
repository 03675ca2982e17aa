import Foundation
import OAuth3Wire

/// What policies look at: a parsed quote, and what its event log proves.
///
/// The event log is read once, here, strictly (``StrictJSON``), replayed against the quote's RTMRs, and
/// only then read for the boot identity (``BootIdentity``), so no policy can take an identity from a log
/// that does not replay.
public struct AttestationEvidence: Sendable {
    /// What the event log proved.
    public enum EventLog: Sendable, Hashable {
        /// No event log came with the quote.
        case absent
        /// The log was unreadable, did not replay to the quote's RTMRs, or stated its identity twice.
        case invalid(reason: String)
        /// The log replays to RTMR0–3 of the quote; this is its boot-time identity.
        case replays(BootIdentity)
    }

    public let quote: Quote
    /// The TD report, for a TDX quote.
    public let report: TDReport?
    public let eventLog: EventLog

    /// Evidence from a quote and its event log (the guest agent's JSON array, or nil when none came).
    public init(quote: Quote, eventLogJSON: [UInt8]?) {
        guard let eventLogJSON else {
            self.init(quote: quote, entries: nil)
            return
        }
        do {
            self.init(quote: quote, entries: try DCAPVerifier.EventLog.decode(eventLogJSON))
        } catch {
            self.init(quote: quote, report: nil, eventLog: .invalid(reason: "\(error)"))
        }
    }

    /// Evidence from a quote and decoded event-log entries (nil when none came).
    public init(quote: Quote, entries: [EventLogEntry]?) {
        guard case .td(let report) = quote.body else {
            self.init(quote: quote, report: nil, eventLog: entries == nil ? .absent : .invalid(reason: "an event log only explains a TDX quote"))
            return
        }
        guard let entries else {
            self.init(quote: quote, report: report, eventLog: .absent)
            return
        }
        do {
            guard try DCAPVerifier.EventLog.replay(entries) == report.rtmrs else {
                self.init(quote: quote, report: report, eventLog: .invalid(reason: "the event log does not replay to the quote's RTMRs"))
                return
            }
            self.init(quote: quote, report: report, eventLog: .replays(try BootIdentity.read(from: entries)))
        } catch {
            self.init(quote: quote, report: report, eventLog: .invalid(reason: "\(error)"))
        }
    }

    private init(quote: Quote, report: TDReport?, eventLog: EventLog) {
        self.quote = quote
        self.report = report ?? { if case .td(let report) = quote.body { report } else { nil } }()
        self.eventLog = eventLog
    }

    /// The boot identity, when the log replays.
    public var identity: BootIdentity? {
        if case .replays(let identity) = eventLog { identity } else { nil }
    }
}
