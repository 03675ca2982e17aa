/// One requirement on an attested TD, in the spirit of swift-certificates' `VerifierPolicy`: it looks at
/// the evidence (a quote whose signatures were checked, and what its event log says) and either meets it
/// or fails with a reason. Policies compose: a verification is the list of policies the caller means
/// (``AttestationPolicySet``), and the verdict is theirs, never a name string steered by a command line.
public protocol AttestationPolicy: Sendable {
    /// The check's name in reports (`os_measurements`, `compose_hash`, …): stable, machines read it.
    var name: String { get }
    /// Whether `evidence` meets this policy, and why or why not.
    func evaluate(_ evidence: AttestationEvidence) -> PolicyVerdict
}

/// A policy's answer. Failing is a result, not a throw: every reason is reported.
public enum PolicyVerdict: Sendable, Hashable {
    /// Met; the detail says what was found.
    case meetsPolicy(String)
    /// Not met, and why.
    case failsToMeetPolicy(reason: String)

    /// Whether the policy was met.
    public var passed: Bool { if case .meetsPolicy = self { true } else { false } }
    /// What was found, or why it failed.
    public var detail: String {
        switch self {
        case .meetsPolicy(let detail): detail
        case .failsToMeetPolicy(let reason): reason
        }
    }
}

/// An ordered list of policies, evaluated together.
///
/// The order is the report's order. Adding a requirement on the TD is adding one conformer to the list;
/// a requirement on a result's own content (a consent record) is a `ResultPolicy` (Attestation).
public struct AttestationPolicySet: Sendable {
    public var policies: [any AttestationPolicy]

    public init(_ policies: [any AttestationPolicy]) { self.policies = policies }

    /// Each policy's verdict as a report line.
    public func evaluate(_ evidence: AttestationEvidence) -> [QuoteVerifier.Check] {
        policies.map { policy in
            let verdict = policy.evaluate(evidence)
            return .init(name: policy.name, passed: verdict.passed, detail: verdict.detail)
        }
    }
}
