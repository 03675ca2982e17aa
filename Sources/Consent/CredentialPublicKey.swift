import Crypto

/// An approver's public key, read from its COSE encoding (RFC 9053): ES256 (EC2, P-256) or EdDSA (OKP,
/// Ed25519), the two algorithms the enrolment page asks for. Other keys are refused at enrolment.
public struct CredentialPublicKey: Sendable {
    /// COSE algorithm identifiers.
    public static let es256 = -7, edDSA = -8

    enum Key: Sendable {
        case p256(P256.Signing.PublicKey)
        case ed25519(Curve25519.Signing.PublicKey)
    }

    let key: Key
    /// The COSE key as the authenticator produced it: what is stored and put into consent records.
    public let cose: [UInt8]
    public var algorithm: Int { if case .p256 = key { Self.es256 } else { Self.edDSA } }

    /// Reads a COSE key.
    public init(cose: [UInt8]) throws(ConsentFailure) {
        var reader = CBORReader(cose)
        let map = try reader.read()
        guard reader.offset == cose.count else { throw .malformed("bytes after the COSE key") }
        try self.init(map, encoded: cose)
    }

    init(_ map: CBOR, encoded: [UInt8]) throws(ConsentFailure) {
        cose = encoded
        switch (map[int: 1]?.int ?? 0, map[int: 3]?.int ?? 0, map[int: -1]?.int ?? 0) {
        case (2, -7, 1):
            guard case .bytes(let x)? = map[int: -2], case .bytes(let y)? = map[int: -3], x.count == 32, y.count == 32,
                let point = try? P256.Signing.PublicKey(x963Representation: [0x04] + x + y)
            else { throw .malformed("an ES256 COSE key needs 32-byte x and y on P-256") }
            key = .p256(point)
        case (1, -8, 6):
            guard case .bytes(let x)? = map[int: -2], x.count == 32, let point = try? Curve25519.Signing.PublicKey(rawRepresentation: x) else {
                throw .malformed("an Ed25519 COSE key needs a 32-byte x")
            }
            key = .ed25519(point)
        case let (kty, alg, crv):
            throw ConsentFailure("unsupported credential key (kty \(kty), alg \(alg), crv \(crv)): only ES256 on P-256 and EdDSA on Ed25519 are accepted")
        }
    }

    /// Checks a WebAuthn signature: ES256 signatures are DER-encoded ECDSA over SHA-256, EdDSA raw Ed25519.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        switch key {
        case .p256(let point):
            guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return point.isValidSignature(parsed, for: SHA256.hash(data: message))
        case .ed25519(let point):
            return point.isValidSignature(signature, for: message)
        }
    }
}
