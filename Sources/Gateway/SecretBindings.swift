import Egress
import Foundation
import OAuth3Wire
import SkillManifest

/// A bound secret's binding, validated: the hosts its value may be sent to (the manifest's `@network`
/// rules) and where in a request it goes (`header`, the only placement).
///
/// Its ``canonical`` JSON is what the database keeps and what the sealed value authenticates (the vault's
/// associated data), so a binding changed in the database no longer opens the value.
struct ValidatedBinding: Sendable, Hashable {
    let hosts: [HostPattern]
    let placement: String

    /// The placements the proxy knows.
    static let placements = ["header"]
    /// Hosts one binding may name.
    static let maxHosts = 32

    /// The binding `hosts` and `placement` describe; `nil` when neither is given (an unbound secret).
    /// - Throws: ``GatewayError/badRequest(_:)`` naming the field and entry at fault.
    static func validate(hosts: [String]?, placement: String?) throws -> ValidatedBinding? {
        guard let hosts else {
            if let placement { throw GatewayError.badRequest("placement '\(placement)' needs hosts: a bound secret names the hosts it may be sent to") }
            return nil
        }
        guard !hosts.isEmpty, hosts.count <= maxHosts else {
            throw GatewayError.badRequest("hosts must name 1 to \(maxHosts) hosts, not \(hosts.count)")
        }
        var patterns: [HostPattern] = []
        for (index, host) in hosts.enumerated() {
            switch HostPattern.validate(host) {
            case .success(let pattern): if !patterns.contains(pattern) { patterns.append(pattern) }
            case .failure(let error): throw GatewayError.badRequest("hosts[\(index)]: \(error.message)")
            }
        }
        let placement = placement ?? "header"
        guard placements.contains(placement) else {
            throw GatewayError.badRequest("placement must be \(placements.joined(separator: " or ")), not '\(placement)'")
        }
        return ValidatedBinding(hosts: patterns.sorted { $0.description < $1.description }, placement: placement)
    }

    /// A binding read back from the database (it opened with its value, so it is the one that was sealed).
    static func stored(_ canonical: String) throws -> ValidatedBinding {
        let wire = try JSONDecoder().decode(SecretBinding.self, from: Data(canonical.utf8))
        guard let binding = try validate(hosts: wire.hosts, placement: wire.placement) else {
            throw GatewayError.internalError("a stored binding without hosts")
        }
        return binding
    }

    var wire: SecretBinding { SecretBinding(hosts: hosts.map(\.description), placement: placement) }

    /// Sorted keys, normalised hosts: the same binding always gives the same text.
    var canonical: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(wire)) ?? Data(), as: UTF8.self)
    }

    /// Whether the value can go into a request header as it is: no control characters (a CR or LF would
    /// start another header line), nothing but visible characters, spaces and tabs.
    static func isHeaderSafe(_ value: String) -> Bool {
        !value.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }
    }

    /// Whether a job declaring `network` can use this binding: one of its hosts lies within a bound host.
    func coversAny(of network: [HostPattern]) -> Bool {
        network.contains { declared in hosts.contains { $0.covers(declared) } }
    }

    /// The secret as the job's proxy holds it: value, bound hosts, and a fresh placeholder.
    func boundSecret(name: String, value: String) -> BoundSecret {
        BoundSecret(name: name, value: value, hosts: hosts)
    }
}
