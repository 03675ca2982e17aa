/// WebAuthn authenticator data (§6.1): the RP id hash, flags, signature counter and, at registration,
/// the attested credential (its id and COSE public key).
public struct AuthenticatorData: Sendable {
    public let raw: [UInt8]
    public let rpIdHash: [UInt8]
    public let flags: UInt8
    public let signCount: UInt32
    /// Present when the AT flag is set (registration).
    public let credentialId: [UInt8]?
    public let credentialKey: CredentialPublicKey?

    /// User present (UP) and user verified (UV, a PIN or biometric).
    public var userPresent: Bool { flags & 0x01 != 0 }
    public var userVerified: Bool { flags & 0x04 != 0 }

    public init(_ bytes: [UInt8]) throws(ConsentFailure) {
        guard bytes.count >= 37 else { throw .malformed("authenticator data shorter than 37 bytes") }
        raw = bytes
        rpIdHash = Array(bytes[0..<32])
        flags = bytes[32]
        signCount = bytes[33..<37].reduce(0) { $0 << 8 | UInt32($1) }
        guard flags & 0x40 != 0 else {
            guard flags & 0x80 != 0 || bytes.count == 37 else { throw .malformed("bytes after authenticator data without extensions") }
            credentialId = nil
            credentialKey = nil
            return
        }
        guard bytes.count >= 55 else { throw .malformed("attested credential data ends early") }
        let idLength = Int(bytes[53]) << 8 | Int(bytes[54])
        guard idLength <= 1023, bytes.count >= 55 + idLength else { throw .malformed("credential id longer than its input") }
        credentialId = Array(bytes[55..<55 + idLength])
        var reader = CBORReader(bytes, offset: 55 + idLength)
        let start = reader.offset
        let map = try reader.read()
        guard flags & 0x80 != 0 || reader.offset == bytes.count else { throw .malformed("bytes after the credential key without extensions") }
        credentialKey = try CredentialPublicKey(map, encoded: Array(bytes[start..<reader.offset]))
    }
}
