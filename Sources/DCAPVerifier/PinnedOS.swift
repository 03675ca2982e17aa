import Foundation
import OAuth3Wire

/// The measurements of one dstack OS release (firmware, kernel, initrd and command line, VM shape), as an
/// auditor pins them: MRTD and RTMR0–2 of the TD, and the OS image hash where a log states one.
///
/// A quote from any TD can carry any RTMR3 events it likes before boot if the OS underneath is not the
/// one dstack ships: RTMR3's boot events are only as honest as the code that wrote them, and that code is
/// what MRTD and RTMR0–2 measure. So an app identity means nothing without the OS pinned.
///
/// The file (JSON, read strictly) names where each value came from, and may say a value could not be
/// obtained; such a pin pins nothing and fails, with that reason, rather than pretend:
/// ```json
/// {"release": "dstack-0.5.5", "description": "…",
///  "mrtd":  {"hex": "…", "source": "dstack-mr measure …"},
///  "rtmr0": {"hex": null, "source": "not obtainable here: …"}, "rtmr1": …, "rtmr2": …,
///  "os_image_hash": {"hex": "…", "source": "…"}}
/// ```
public struct PinnedOS: Sendable, Hashable, Codable {
    /// One pinned value and its provenance.
    public struct Value: Sendable, Hashable, Codable {
        /// Lowercase hex, or nil when it could not be obtained (``source`` says why).
        public var hex: String?
        /// Where the value came from (a published release file, a tool run), or why it is missing.
        public var source: String

        public init(hex: String?, source: String) {
            self.hex = hex?.lowercased()
            self.source = source
        }
    }

    /// The release's name (`dstack-0.5.5`, `development`).
    public var release: String
    public var description: String?
    public var mrtd: Value
    public var rtmr0: Value
    public var rtmr1: Value
    public var rtmr2: Value
    /// Checked only when the event log states an `os-image-hash`.
    public var osImageHash: Value?

    public init(release: String, description: String? = nil, mrtd: Value, rtmr0: Value, rtmr1: Value, rtmr2: Value, osImageHash: Value? = nil) {
        self.release = release
        self.description = description
        self.mrtd = mrtd
        self.rtmr0 = rtmr0
        self.rtmr1 = rtmr1
        self.rtmr2 = rtmr2
        self.osImageHash = osImageHash
    }

    enum CodingKeys: String, CodingKey { case release, description, mrtd, rtmr0, rtmr1, rtmr2, osImageHash = "os_image_hash" }

    /// Reads a pin file strictly (``StrictJSON``).
    public static func decode(_ json: [UInt8]) throws(QuoteParseError) -> PinnedOS {
        do { return try StrictJSON.decode(PinnedOS.self, from: json) } catch {
            throw QuoteParseError("OS pin is not {release, mrtd, rtmr0, rtmr1, rtmr2: {hex, source}}: \(error)")
        }
    }

    /// The measurements `report` shows, pinned as they are (trust on first use), with `source` saying so.
    public static func measured(_ report: TDReport, release: String, source: String) -> PinnedOS {
        func value(_ bytes: [UInt8]) -> Value { Value(hex: bytes.hexString, source: source) }
        return PinnedOS(release: release, mrtd: value(report.mrTD), rtmr0: value(report.rtmrs[0]), rtmr1: value(report.rtmrs[1]), rtmr2: value(report.rtmrs[2]))
    }

    /// The register values to compare, in report order.
    var registers: [(name: String, value: Value)] { [("MRTD", mrtd), ("RTMR0", rtmr0), ("RTMR1", rtmr1), ("RTMR2", rtmr2)] }

    /// Whether `report` (and the boot identity's OS image hash, when there is one) is this release.
    /// - Returns: nil when it is; else every difference, and every value the pin could not state.
    public func mismatches(_ report: TDReport, osImageHash: String?) -> [String] {
        var problems: [String] = []
        let actual = [report.mrTD, report.rtmrs[0], report.rtmrs[1], report.rtmrs[2]]
        for ((name, value), measured) in zip(registers, actual) {
            guard let hex = value.hex else {
                problems.append("\(name) is not pinned for \(release) (\(value.source))")
                continue
            }
            if hex != measured.hexString { problems.append("\(name) is \(measured.hexString), \(release) has \(hex)") }
        }
        if let osImageHash {
            if let pinned = self.osImageHash?.hex {
                if pinned != osImageHash { problems.append("the OS image hash is \(osImageHash), \(release) has \(pinned)") }
            } else {
                problems.append("the log states OS image hash \(osImageHash) but the pin for \(release) has none")
            }
        }
        return problems
    }
}
