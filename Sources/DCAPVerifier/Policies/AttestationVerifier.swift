import Foundation

/// Verifies an attested TD for one purpose: the quote's signatures and chain to a trusted root, its platform
/// (TCB) status from collateral when asked, then every policy the caller composed. The one verifier the
/// `verify` command, the client library (sealing secrets) and ``ResultVerifier`` share.
public struct AttestationVerifier: Sendable {
    /// How the platform is judged.
    public enum Platform: Sendable {
        /// Signatures and chain only (a client checking a live enclave; the TCB is the auditor's job).
        case signaturesOnly
        /// Full DCAP with this collateral (nil: none was given, and the TCB check fails saying so), accepting
        /// these TCB statuses. A development quote, when the development root is allowed, has no TCB.
        case dcap(Collateral?, acceptable: Set<String>)
    }

    /// The roots a quote may chain to.
    public var roots: [QuoteVerifier.Root]
    /// What the TD must satisfy beyond its quote's signatures.
    public var policies: AttestationPolicySet

    public init(roots: [QuoteVerifier.Root], policies: AttestationPolicySet) {
        self.roots = roots
        self.policies = policies
    }

    /// Whether the development root is among ``roots``.
    public var allowsDevelopmentRoot: Bool { roots.contains { if case .development = $0 { true } else { false } } }

    /// Every check on `evidence` at `time`; a ``VerifiedAttestation`` only when all pass.
    public func verify(_ evidence: AttestationEvidence, platform: Platform = .signaturesOnly, at time: Date) async -> AttestationVerdict {
        var checks = await QuoteVerifier(roots: roots).verifySignatures(of: evidence.quote, at: time)
        var tcbStatus: String?
        var advisories: [String] = []
        if case .dcap(let collateral, let acceptable) = platform {
            var isDevelopment = false
            if allowsDevelopmentRoot {
                let developmentChecks = await QuoteVerifier(roots: [.development]).verifySignatures(of: evidence.quote, at: time)
                isDevelopment = !developmentChecks.contains { $0.name == "pck_chain" && !$0.passed }
            }
            if isDevelopment {
                checks.append(.init(name: "tcb_status", passed: true, detail: "a DEVELOPMENT quote: it has no TCB and no collateral"))
            } else if let collateral {
                let report = await QuoteVerifier(roots: roots).verify(quote: evidence.quote, collateral: collateral, at: time, acceptable: acceptable)
                let done = Set(checks.map(\.name))
                checks += report.checks.filter { !done.contains($0.name) }
                tcbStatus = report.tcbStatus
                advisories = report.advisoryIDs
            } else {
                checks.append(.init(name: "tcb_status", passed: false, detail: "no collateral: give --collateral FILE or --pccs URL to check the TCB"))
            }
        }
        checks += policies.evaluate(evidence)
        let passed = !checks.isEmpty && checks.allSatisfy(\.passed)
        return AttestationVerdict(
            checks: checks, tcbStatus: tcbStatus, advisoryIDs: advisories, evidence: evidence,
            verified: passed ? VerifiedAttestation(quote: evidence.quote, identity: evidence.identity, tcbStatus: tcbStatus) : nil)
    }
}

/// Every check of one verification, and the proof when all passed.
public struct AttestationVerdict: Sendable {
    public let checks: [QuoteVerifier.Check]
    /// The TCB status, when collateral was checked.
    public let tcbStatus: String?
    public let advisoryIDs: [String]
    public let evidence: AttestationEvidence
    /// Present only when every check passed.
    public let verified: VerifiedAttestation?

    /// The first failing check, if any.
    public var firstFailure: QuoteVerifier.Check? { checks.first { !$0.passed } }
}

/// A TD that met every policy it was verified against. Only ``AttestationVerifier`` makes one, so holding
/// it is proof; its identity is the boot-time identity of a log that replays.
public struct VerifiedAttestation: Sendable {
    public let quote: Quote
    public let identity: BootIdentity?
    public let tcbStatus: String?

    fileprivate init(quote: Quote, identity: BootIdentity?, tcbStatus: String?) {
        self.quote = quote
        self.identity = identity
        self.tcbStatus = tcbStatus
    }
}
