extension AttestationPolicySet {
    /// What an attested enclave must meet before anyone trusts it with a verdict or a secret: an event log
    /// that replays, the pinned OS, and the identity the caller expects (compose hash, app id: each only when
    /// given). The same list serves `verify`, the client's sealing and ``AttestationVerifier``'s other callers.
    ///
    /// A consent policy (a result's attested approval record) is one more element, appended by the caller
    /// that verifies results.
    public static func enclave(os: OSExpectation?, composeHash: String? = nil, appID: String? = nil) -> AttestationPolicySet {
        var policies: [any AttestationPolicy] = [EventLogReplayPolicy(), OSMeasurementPolicy(os)]
        if let composeHash { policies.append(BootIdentityPolicy(.composeHash, expected: composeHash)) }
        if let appID { policies.append(BootIdentityPolicy(.appID, expected: appID)) }
        return AttestationPolicySet(policies)
    }
}
