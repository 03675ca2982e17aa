import Foundation

/// The TD must run the dstack OS release the auditor pinned: MRTD and RTMR0–2 (and the OS image hash, when
/// the log states one) equal to a ``PinnedOS``.
///
/// Without it, the boot identity in RTMR3 is only as honest as whatever OS wrote it. Skipping the check is
/// possible only by name (``OSExpectation/unsafeUnpinnedAccepted``), and it is reported as not pinned.
public struct OSMeasurementPolicy: AttestationPolicy {
    public let expectation: OSExpectation?
    public var name: String { "os_measurements" }

    /// - Parameter expectation: nil when the caller gave none: the policy fails with "OS not pinned".
    public init(_ expectation: OSExpectation?) { self.expectation = expectation }

    /// The reason a missing pin fails with; verdict lines quote it.
    public static let notPinned = "OS not pinned"

    public func evaluate(_ evidence: AttestationEvidence) -> PolicyVerdict {
        guard let report = evidence.report else { return .failsToMeetPolicy(reason: "not a TDX quote: no OS measurements") }
        let measured = "MRTD \(report.mrTD.hexString.prefix(16))…"
        switch expectation {
        case nil:
            return .failsToMeetPolicy(reason: "\(Self.notPinned): give the measurements of the dstack OS release this app runs on (\(measured))")
        case .unsafeUnpinnedAccepted:
            return .meetsPolicy("NOT PINNED, accepted by request: the OS measurements (\(measured)) were not compared with anything")
        case .selectedByCompose(let selection):
            switch selection.pin(for: evidence) {
            case .failure(let failure): return .failsToMeetPolicy(reason: failure.reason)
            case .success(let pin): return Self.compare(report, evidence, with: pin)
            }
        case .pinned(let pin):
            return Self.compare(report, evidence, with: pin)
        }
    }

    /// MRTD, RTMR0–2 and (where the boot log states one) the OS image hash against `pin`.
    private static func compare(_ report: TDReport, _ evidence: AttestationEvidence, with pin: PinnedOS) -> PolicyVerdict {
        let problems = pin.mismatches(report, osImageHash: evidence.identity?.osImageHash)
        return problems.isEmpty
            ? .meetsPolicy("MRTD and RTMR0–2 are those of \(pin.release)")
            : .failsToMeetPolicy(reason: "not the pinned OS: " + problems.joined(separator: "; "))
    }
}

/// What the OS measurements are compared with.
public enum OSExpectation: Sendable, Hashable {
    /// A pinned release.
    case pinned(PinnedOS)
    /// The release the app's own compose names, from a pin directory, once the boot log proves that compose.
    case selectedByCompose(OSPinSelection)
    /// No comparison, by explicit request (`--accept-unpinned-os`): proves nothing about the OS.
    case unsafeUnpinnedAccepted
}

extension OSExpectation {
    /// The expectation a command line asked for: a pin file (`--expect-os FILE`, which wins), the pin the
    /// app compose names from a pin directory (`--os-pins DIR` with `--compose FILE`), or the loud opt-out
    /// (`--accept-unpinned-os`); nil when none was given (the OS policy then fails as not pinned).
    /// - Throws: when a pin and the opt-out are both given, `--os-pins` comes without an app compose, or a
    ///   file cannot be read as a pin.
    public static func fromOptions(
        pinFile: String?, pinDirectory: String? = nil, appCompose: [UInt8]? = nil, acceptUnpinned: Bool
    ) throws(QuoteParseError) -> OSExpectation? {
        switch (pinFile, acceptUnpinned) {
        case (.some, true): throw QuoteParseError("give --expect-os FILE or --accept-unpinned-os, not both")
        case (nil, true):
            if pinDirectory != nil { throw QuoteParseError("give --os-pins DIR or --accept-unpinned-os, not both") }
            return .unsafeUnpinnedAccepted
        case (nil, false):
            guard let pinDirectory else { return nil }
            guard let appCompose else { throw QuoteParseError("--os-pins DIR selects the pin the app compose names: give --compose FILE too") }
            return .selectedByCompose(try OSPinSelection(appCompose: appCompose, directory: pinDirectory))
        case (let path?, false):
            guard let data = FileManager.default.contents(atPath: path) else { throw QuoteParseError("cannot read the OS pin \(path)") }
            return .pinned(try PinnedOS.decode(Array(data)))
        }
    }
}
