import Egress
import Foundation

/// `egress.json`: the refused ranges, per-host widenings, the per-job budgets and the proxy's name servers.
///
/// ```json
/// { "refused_ranges": ["10.0.0.0/8", "fc00::/7"],
///   "widen": [{ "hosts": ["api.internal"], "ranges": ["10.20.0.0/16"] }],
///   "max_connections": 256, "max_concurrent_connections": 16, "max_bytes": 67108864,
///   "connect_timeout_ms": 10000, "nameservers": [] }
/// ```
/// Only `refused_ranges` is required; an unknown key is an error, so a misspelt limit is never silently
/// ignored.
struct EgressFile: Decodable {
    struct Widen: Decodable {
        let hosts: [String]
        let ranges: [String]
    }
    let refusedRanges: [String]
    let widen: [Widen]?
    let maxConnections, maxConcurrentConnections, maxBytes, connectTimeoutMs: Int?
    let nameservers: [String]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case refusedRanges = "refused_ranges", widen, maxConnections = "max_connections"
        case maxConcurrentConnections = "max_concurrent_connections", maxBytes = "max_bytes"
        case connectTimeoutMs = "connect_timeout_ms", nameservers
    }

    /// Reads and checks `path`.
    /// - Throws: ``SandboxError/policy(_:file:line:)`` naming the file and the entry that is wrong.
    static func load(from path: String) throws(SandboxError) -> EgressPolicy {
        let file: EgressFile = try PolicySet.decode(EgressFile.self, from: path)
        if let data = FileManager.default.contents(atPath: path),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        {
            let known = Set(CodingKeys.allCases.map(\.rawValue))
            if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
                throw .policy("\(path): unknown key '\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
            }
        }
        func ranges(_ texts: [String], at field: String) throws(SandboxError) -> [IPRange] {
            var out: [IPRange] = []
            for (index, text) in texts.enumerated() {
                guard let range = IPRange(text) else {
                    throw .policy("\(path): \(field)[\(index)] '\(text)' is not an address range (a.b.c.d/n or an IPv6 prefix, host bits zero)")
                }
                out.append(range)
            }
            return out
        }
        var widenings: [EgressPolicy.Widening] = []
        for (index, widen) in (file.widen ?? []).enumerated() {
            widenings.append(.init(hosts: widen.hosts, ranges: try ranges(widen.ranges, at: "widen[\(index)].ranges")))
        }
        let defaults = EgressPolicy(refusedRanges: [])
        let policy = EgressPolicy(
            refusedRanges: try ranges(file.refusedRanges, at: "refused_ranges"), widenings: widenings,
            maxConnections: file.maxConnections ?? defaults.maxConnections,
            maxConcurrentConnections: file.maxConcurrentConnections ?? defaults.maxConcurrentConnections,
            maxBytes: file.maxBytes ?? defaults.maxBytes,
            connectTimeoutMilliseconds: file.connectTimeoutMs ?? defaults.connectTimeoutMilliseconds,
            nameservers: file.nameservers ?? [])
        if let problem = policy.problems().first { throw .policy("\(path): \(problem)") }
        do {
            _ = try DNSResolver(nameservers: policy.nameservers)
        } catch {
            throw .policy("\(path): nameservers: \(error)")
        }
        return policy
    }
}
