/// A request body that knows the names of its fields, so the enclave can name the fields it was sent but
/// does not read (in the reply's `warnings`) instead of dropping them silently: a misspelt `skillCode` or
/// a field of another API version then shows up where the agent reads the reply.
public protocol KnownFields {
    /// The top-level JSON keys this body reads.
    static var fieldNames: Set<String> { get }
}

extension ExecuteRequest: KnownFields {
    public static var fieldNames: Set<String> { Set(CodingKeys.allCases.map(\.stringValue)) }
}

extension ScopeRequest: KnownFields {
    public static var fieldNames: Set<String> { Set(CodingKeys.allCases.map(\.stringValue)) }
}

extension SignupRequest: KnownFields {
    public static var fieldNames: Set<String> { ["name", "email"] }
}

extension SecretValue: KnownFields {
    public static var fieldNames: Set<String> { ["name", "value", "sealed", "hosts", "placement"] }
}

extension ApprovalDecision: KnownFields {
    public static var fieldNames: Set<String> { ["token", "action", "level", "secrets", "secret_hosts", "options", "passkey"] }
}
