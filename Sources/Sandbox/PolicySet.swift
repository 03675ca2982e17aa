import Crypto
import Egress
import Foundation
import JailPlan
import SkillManifest

/// The operator's policy files (`policies/`), loaded once at start.
///
/// Their combined hash, ``sha256``, goes into every result so an auditor knows which policy a job ran
/// under: SHA-256 over, for each regular file in byte order of its relative path,
/// `relative/path` `NUL` `lowercase hex SHA-256 of the file` `LF`.
public struct PolicySet: Sendable {
    /// Bounds for skill headers.
    public var manifest: ManifestConfiguration
    /// Per-job resource bounds.
    public var limits: SandboxLimits
    /// What the egress proxy admits beyond the declared hosts (`egress.json`).
    public var egress: EgressPolicy
    /// The seccomp filter for this machine's architecture (`seccomp/<arch>.json`).
    public var seccomp: SeccompPolicy
    /// The combined hash of every file in the policy directory.
    public let sha256: String

    /// Builds a policy from values (tests, embedded defaults); `sha256` names where it came from.
    public init(manifest: ManifestConfiguration, limits: SandboxLimits, egress: EgressPolicy, seccomp: SeccompPolicy, sha256: String) {
        self.manifest = manifest
        self.limits = limits
        self.egress = egress
        self.seccomp = seccomp
        self.sha256 = sha256
    }

    /// Loads `limits.json`, `egress.json` and this architecture's seccomp profile from `directory`, and
    /// hashes every file in it.
    /// - Throws: ``SandboxError`` naming the file and the field that is missing or wrong.
    public static func load(from directory: String) throws(SandboxError) -> PolicySet {
        let limitsFile: LimitsFile = try decode(LimitsFile.self, from: directory + "/limits.json")
        let egress = try EgressFile.load(from: directory + "/egress.json")
        if let problem = limitsFile.sandbox.problems().first {
            throw .policy("\(directory)/limits.json: sandbox.\(problem)")
        }
        let seccomp = try SeccompProfile.load(from: "\(directory)/seccomp/\(SeccompProfile.currentArchitecture).json")
        let manifest = limitsFile.manifest
        guard manifest.defaultTimeoutSeconds >= 1, manifest.defaultTimeoutSeconds <= manifest.maxTimeoutSeconds else {
            throw .policy("\(directory)/limits.json: manifest.default_timeout_seconds must be between 1 and max_timeout_seconds")
        }
        return PolicySet(
            manifest: ManifestConfiguration(
                maxSourceBytes: manifest.maxSourceBytes, defaultTimeoutSeconds: manifest.defaultTimeoutSeconds,
                maxTimeoutSeconds: manifest.maxTimeoutSeconds, maxSecrets: manifest.maxSecrets,
                maxHosts: manifest.maxHosts, maxDescriptionLength: manifest.maxDescriptionLength),
            limits: limitsFile.sandbox, egress: egress, seccomp: seccomp, sha256: try hash(directory: directory))
    }

    /// The combined hash described on ``PolicySet``.
    static func hash(directory: String) throws(SandboxError) -> String {
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
            throw .policy("cannot read the policy directory \(directory)")
        }
        var entries: [(path: String, digest: String)] = []
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            guard let data = try? Data(contentsOf: url) else { throw .policy("cannot read \(url.path)") }
            let relative = String(url.standardizedFileURL.path.dropFirst(root.path.count + 1))
            entries.append((relative, SHA256.hash(data: data).hex))
        }
        var hasher = SHA256()
        for entry in entries.sorted(by: { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }) {
            hasher.update(data: Data("\(entry.path)\u{0}\(entry.digest)\n".utf8))
        }
        return hasher.finalize().hex
    }

    static func decode<T: Decodable>(_ type: T.Type, from path: String) throws(SandboxError) -> T {
        guard let data = FileManager.default.contents(atPath: path) else { throw .policy("policy file \(path) is missing") }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw .policy("\(path): missing field \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))")
        } catch let DecodingError.typeMismatch(_, context) {
            throw .policy("\(path): wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch {
            throw .policy("\(path): not valid JSON (\(error))")
        }
    }
}

/// `limits.json`.
private struct LimitsFile: Decodable {
    struct Manifest: Decodable {
        let maxSourceBytes, defaultTimeoutSeconds, maxTimeoutSeconds, maxSecrets, maxHosts, maxDescriptionLength: Int
        enum CodingKeys: String, CodingKey {
            case maxSourceBytes = "max_source_bytes", defaultTimeoutSeconds = "default_timeout_seconds"
            case maxTimeoutSeconds = "max_timeout_seconds", maxSecrets = "max_secrets", maxHosts = "max_hosts"
            case maxDescriptionLength = "max_description_length"
        }
    }
    let manifest: Manifest
    let sandbox: SandboxLimits
}

extension Sequence<UInt8> {
    /// Lowercase hexadecimal.
    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self { out += [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]] }
        return String(decoding: out, as: UTF8.self)
    }
}
