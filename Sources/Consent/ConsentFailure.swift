/// Why a registration, an assertion or a consent record was refused, in words an approver or an
/// auditor can act on. Verification returns it as a result; parsing throws it.
public struct ConsentFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public let reason: String

    public init(_ reason: String) { self.reason = reason }

    /// Input that is not what WebAuthn produces.
    public static func malformed(_ what: String) -> ConsentFailure { ConsentFailure("malformed: \(what)") }

    public var description: String { reason }
}
