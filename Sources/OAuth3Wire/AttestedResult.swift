import Foundation

/// A finished job's result as the enclave stores, serves and an auditor verifies it: what ran and how it
/// was approved (``ResultClaims``, hashed and signed) and the ``ResultAttestation`` binding those claims
/// to a quote.
///
/// In JSON it is one flat object: the claims' members and `attestation` beside them (the shape the SDK
/// reads `stdout`, `stderr`, `exitCode` from). The result hash is over the canonical encoding of that
/// object without `attestation` (``ResultClaims/canonicalEncoding()``), so it is the same bytes the daemon
/// hashed before results were typed.
public struct AttestedResult: Codable, Sendable, Hashable {
    /// Everything the attestation covers.
    public var claims: ResultClaims
    /// The hash, signature and quote over ``claims``. Its own members are not covered by the hash; only
    /// what ``ResultVerifier`` (module `Attestation`) checks of them may be trusted.
    public var attestation: ResultAttestation

    public init(claims: ResultClaims, attestation: ResultAttestation) {
        self.claims = claims
        self.attestation = attestation
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case attestation }

    public init(from decoder: any Decoder) throws {
        claims = try ResultClaims(from: decoder)
        attestation = try decoder.container(keyedBy: CodingKeys.self).decode(ResultAttestation.self, forKey: .attestation)
    }

    /// The claims' members and `attestation`, in one object.
    public func encode(to encoder: any Encoder) throws {
        try claims.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(attestation, forKey: .attestation)
    }
}

/// What a result states and its attestation covers: the sandbox's ``RunResult``, the request it answers,
/// and how and when it was approved (``RunConsent``). Encoded flat: the members of all three in one object.
///
/// To add a field to results, add it to ``RunResult`` (what the job did) or to ``RunConsent`` (how it came
/// to run); this type and everything after it (hashing, storing, serving, `verify`) need no change.
public struct ResultClaims: Codable, Sendable, Hashable {
    /// What the sandbox observed: output, outcome, grants, isolation, network transcript.
    public var run: RunResult
    /// The `exec_…` id of the request this result answers.
    public var requestId: String
    /// How the job was approved, in the status reply's words: `human`, `token`, `trusted_code`, `session_policy`.
    public var approvedBy: String?
    /// The session or trusted-code record the approval came from, when one did.
    public var approvalDetail: String?
    /// The consent record, the arguments and the times.
    public var consent: RunConsent

    public init(run: RunResult, requestId: String, approvedBy: String?, approvalDetail: String?, consent: RunConsent) {
        self.run = run
        self.requestId = requestId
        self.approvedBy = approvedBy
        self.approvalDetail = approvalDetail
        self.consent = consent
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case requestId = "request_id", approvedBy = "approved_by", approvalDetail = "approval_detail"
    }

    public init(from decoder: any Decoder) throws {
        run = try RunResult(from: decoder)
        consent = try RunConsent(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        requestId = try container.decode(String.self, forKey: .requestId)
        approvedBy = try container.decodeIfPresent(String.self, forKey: .approvedBy)
        approvalDetail = try container.decodeIfPresent(String.self, forKey: .approvalDetail)
    }

    /// The members of ``run`` and ``consent`` and this type's own, in one object; absent approval
    /// fields are explicit `null`, as they always were.
    public func encode(to encoder: any Encoder) throws {
        try run.encode(to: encoder)
        try consent.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(requestId, forKey: .requestId)
        try container.encode(approvedBy, forKey: .approvedBy)
        try container.encode(approvalDetail, forKey: .approvalDetail)
    }

    /// The bytes the result hash is over: ``CanonicalJSON`` of these claims as one object.
    public func canonicalEncoding() throws -> [UInt8] {
        CanonicalJSON.encode(try JSONValue(encoding: self))
    }
}

/// How a result is bound to the TEE (`format` ``Domain/resultAttestationFormat``): the SHA-256 of the
/// canonical claims, the enclave key's Ed25519 signature over it, and a TDX quote whose report_data is
/// SHA-512 of the domain-separated hash (``Domain/result``), with the event log that replays RTMR3.
public struct ResultAttestation: Codable, Sendable, Hashable {
    public var format: String
    /// Lowercase hex SHA-256 of ``ResultClaims/canonicalEncoding()``.
    public var resultSHA256: String
    /// Ed25519 over `Domain.result ‖ 0x00 ‖ hash`, hex.
    public var signature: String
    /// The enclave's Ed25519 public key, raw, hex.
    public var publicKey: String
    /// The 64 bytes the quote binds, hex.
    public var reportData: String
    /// The TDX quote, hex.
    public var quote: String
    /// The guest agent's event log, as it gave it (the verifier replays it against RTMR3).
    public var eventLog: JSONValue
    /// Which guest agent quoted: `dstack:…` or `development:…`.
    public var guestAgent: String

    public init(
        format: String, resultSHA256: String, signature: String, publicKey: String, reportData: String, quote: String, eventLog: JSONValue,
        guestAgent: String
    ) {
        self.format = format
        self.resultSHA256 = resultSHA256
        self.signature = signature
        self.publicKey = publicKey
        self.reportData = reportData
        self.quote = quote
        self.eventLog = eventLog
        self.guestAgent = guestAgent
    }

    enum CodingKeys: String, CodingKey {
        case format, resultSHA256 = "result_sha256", signature, publicKey = "public_key", reportData = "report_data", quote
        case eventLog = "event_log", guestAgent = "guest_agent"
    }
}

extension JSONValue {
    /// `value` as JSON: what any reader of its encoding would see.
    public init(encoding value: some Encodable) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
    }
}
