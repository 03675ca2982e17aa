import DCAPVerifier
import Foundation
import OAuth3Wire

/// `~/.oauth3/enclaves.json`: the enclave each URL was pinned to by `oauth3 enclave pin` (trust on first
/// use): its boot identity and the OS measurements seen then. Sealing to a pinned URL requires the same.
struct EnclavePin: Codable, Equatable {
    var appID: String?
    var composeHash: String?
    /// The OS measurements seen at pin time (or the release they were checked against).
    var os: PinnedOS
    /// When, as ISO 8601.
    var pinnedAt: String

    enum CodingKeys: String, CodingKey { case appID = "app_id", composeHash = "compose_hash", os, pinnedAt = "pinned_at" }

    var summary: String { "app id \(appID ?? "none"), compose hash \(composeHash ?? "none"), OS \(os.release) (MRTD \(os.mrtd.hex ?? "?"))" }
}

enum EnclavePins {
    static var url: URL { KeyFile.url.deletingLastPathComponent().appendingPathComponent("enclaves.json") }

    /// Every pin, keyed by the enclave URL as given (no trailing slash).
    static func load() throws -> [String: EnclavePin] {
        guard let data = FileManager.default.contents(atPath: url.path) else { return [:] }
        return try StrictJSON.decode([String: EnclavePin].self, from: data)
    }

    static func pin(for base: URL) throws -> EnclavePin? { try load()[key(base)] }

    static func save(_ pin: EnclavePin, for base: URL) throws {
        var pins = try load()
        pins[key(base)] = pin
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try encoder.encode(pins).write(to: url, options: .atomic)
    }

    static func key(_ base: URL) -> String { base.absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/")) }
}
