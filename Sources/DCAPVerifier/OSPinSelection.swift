import Foundation
import OAuth3Wire

/// The OS pin chosen by the application's own attested data: the compose file inside app-compose.json
/// names the dstack OS release it targets (top-level ``composeKey``), and the pin of that release is read
/// from a directory of pins (`<release>.json`, as `dstack/os/`).
///
/// dstack's app-compose.json has no OS field, but its `docker_compose_file` is covered by the compose hash,
/// so the release named there is as attested as the compose itself, once the app compose given hashes to
/// the compose hash the boot event log states. A selection is judged against the evidence
/// (``pin(for:)``): an app compose that is not the booted one selects nothing.
public struct OSPinSelection: Sendable, Hashable {
    /// The compose file's top-level extension field naming the OS release (Docker Compose ignores `x-` keys).
    public static let composeKey = "x-oauth3-dstack-os"

    /// SHA-256 (hex) of the app-compose.json given.
    public let composeHash: String
    /// The release its compose file names, or why none could be read.
    public let release: Release
    /// The pin directory, as given (for messages).
    public let directory: String
    /// The pins in the directory, by release.
    public let pins: [String: PinnedOS]

    /// What the compose file says about its OS.
    public enum Release: Sendable, Hashable {
        case named(String)
        case unreadable(reason: String)
    }

    /// Reads the app compose's release and every `*.json` pin in `directory`.
    /// - Throws: when the directory cannot be listed, or a pin in it does not decode or is filed under
    ///   another release's name (a pin directory is the auditor's own: a broken one is an error, not a miss).
    public init(appCompose: [UInt8], directory: String) throws(QuoteParseError) {
        composeHash = ComposeHash.of(appCompose).hexString
        do { release = .named(try Self.release(inAppCompose: appCompose)) } catch { release = .unreadable(reason: error.message) }
        self.directory = directory
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw QuoteParseError("cannot list the OS pin directory \(directory)")
        }
        var pins: [String: PinnedOS] = [:]
        for name in names.sorted() where name.hasSuffix(".json") {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path) else { throw QuoteParseError("cannot read the OS pin \(path)") }
            let pin = try PinnedOS.decode(Array(data))
            guard pin.release + ".json" == name else { throw QuoteParseError("the OS pin \(path) is for release \(pin.release); it must be named \(pin.release).json") }
            pins[pin.release] = pin
        }
        self.pins = pins
    }

    /// The pin for the evidence's OS, or the reason there is none: the boot event log must state this app
    /// compose's hash before its release is believed, and the release must have a pin in the directory.
    public func pin(for evidence: AttestationEvidence) -> Result<PinnedOS, SelectionFailure> {
        guard let booted = evidence.identity?.composeHash else {
            return .failure(.init("no OS selected: the app compose's release counts only when a boot event log that replays states its compose hash, and none does"))
        }
        guard booted.lowercased() == composeHash else {
            return .failure(.init("no OS selected: the app compose given hashes to \(composeHash), but the TD booted compose hash \(booted)"))
        }
        switch release {
        case .unreadable(let reason):
            return .failure(.init("no OS selected: \(reason)"))
        case .named(let name):
            guard let pin = pins[name] else { return .failure(.init("\(OSMeasurementPolicy.notPinned) (release \(name) has no pin in \(directory))")) }
            return .success(pin)
        }
    }

    /// Why no pin was selected, as the OS policy reports it.
    public struct SelectionFailure: Error, Sendable, Hashable {
        public let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// The release the compose file inside `appCompose` (app-compose.json) names with ``composeKey``: a
    /// top-level key, on one line, its value a plain name (letters, digits, `.`, `_`, `-`), stated once.
    /// The value becomes a file name, so nothing else is accepted.
    public static func release(inAppCompose appCompose: [UInt8]) throws(QuoteParseError) -> String {
        let document: JSONValue
        do { document = try StrictJSON.decode(JSONValue.self, from: appCompose) } catch { throw QuoteParseError("the app compose is not strict JSON: \(error)") }
        guard let compose = document["docker_compose_file"]?.stringValue else {
            throw QuoteParseError("the app compose has no docker_compose_file, so it names no OS release")
        }
        let prefix = composeKey + ":"
        let lines = compose.split(separator: "\n", omittingEmptySubsequences: false).filter { $0.hasPrefix(prefix) }
        guard lines.count == 1, let line = lines.first else {
            throw QuoteParseError(lines.isEmpty
                ? "the compose file names no OS release (a top-level \(composeKey): RELEASE line)"
                : "the compose file states \(composeKey) \(lines.count) times")
        }
        var value = line.dropFirst(prefix.count)
        if let comment = value.firstIndex(of: "#") { value = value[..<comment] }
        let name = value.trimmingCharacters(in: .whitespacesAndNewlines)
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard !name.isEmpty, !name.hasPrefix("."), name.unicodeScalars.allSatisfy(allowed.contains) else {
            throw QuoteParseError("the compose file's \(composeKey) is '\(name)', not a release name (letters, digits, '.', '_', '-')")
        }
        return name
    }
}
