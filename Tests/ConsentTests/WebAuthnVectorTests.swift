import Consent
import Crypto
import Foundation
import OAuth3Wire
import TestSupport
import Testing

/// Registration and assertion vectors made by `Tests/Vectors/webauthn/make_vectors.py` with Python's
/// `cryptography` and a hand-written CBOR encoder: the verifier must accept them, and refuse each way
/// an attacker would bend them.
@Suite("WebAuthn verification against independent vectors")
struct WebAuthnVectorTests {
    struct Vector: Decodable {
        let cose, credential_id, registration_challenge, attestation_object, client_data_create: String
        let digest, authenticator_data, client_data_get, signature: String
    }
    struct Vectors: Decodable {
        let rp_id: String
        let origin: String
        let statement: ConsentStatement
        let es256: Vector
        let ed25519: Vector
    }

    static let vectors: Vectors = {
        let url = Fixture.repository.appendingPathComponent("Tests/Vectors/webauthn/vectors.json")
        return try! JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }()
    let party = RelyingParty(id: vectors.rp_id, origin: vectors.origin)

    static let kinds = ["ES256", "Ed25519"]

    /// The vector of a key kind, and its COSE algorithm.
    static func vector(_ kind: String) -> (Vector, Int) { kind == "ES256" ? (vectors.es256, -7) : (vectors.ed25519, -8) }

    func bytes(_ text: String) -> [UInt8] { Base64URL.decode(text)! }

    @Test("The consent digest is the one Python computes from docs/attestation.md's recipe")
    func digestMatchesPython() {
        #expect(ConsentDigest.of(Self.vectors.statement).map { String(format: "%02x", $0) }.joined() == Self.vectors.es256.digest)
    }

    @Test("A registration with attestation none yields the credential id and the COSE key", arguments: kinds)
    func registration(kind: String) throws {
        let (vector, algorithm) = Self.vector(kind)
        let registration = try party.verifyRegistration(
            attestationObject: bytes(vector.attestation_object), clientDataJSON: bytes(vector.client_data_create), challenge: bytes(vector.registration_challenge)).get()
        #expect(registration.credentialId == bytes(vector.credential_id))
        #expect(registration.publicKey.cose == bytes(vector.cose) && registration.publicKey.algorithm == algorithm)
        // Made for another challenge, or checked by another relying party: refused.
        let other = RelyingParty(id: "evil.example", origin: "https://evil.example")
        #expect(throws: ConsentFailure.self) {
            try party.verifyRegistration(attestationObject: bytes(vector.attestation_object), clientDataJSON: bytes(vector.client_data_create), challenge: [UInt8](repeating: 1, count: 32)).get()
        }
        #expect(throws: ConsentFailure.self) {
            try other.verifyRegistration(attestationObject: bytes(vector.attestation_object), clientDataJSON: bytes(vector.client_data_create), challenge: bytes(vector.registration_challenge)).get()
        }
    }

    func assertion(_ vector: Vector, party: RelyingParty? = nil, authenticatorData: [UInt8]? = nil, clientData: [UInt8]? = nil, signature: [UInt8]? = nil, challenge: [UInt8]? = nil, stored: UInt32 = 0) throws -> Result<RelyingParty.VerifiedAssertion, ConsentFailure> {
        (party ?? self.party).verifyAssertion(
            authenticatorData: authenticatorData ?? bytes(vector.authenticator_data), clientDataJSON: clientData ?? bytes(vector.client_data_get),
            signature: signature ?? bytes(vector.signature), challenge: challenge ?? ConsentDigest.of(Self.vectors.statement),
            publicKey: try CredentialPublicKey(cose: bytes(vector.cose)), storedCount: stored)
    }

    func refusal(_ result: Result<RelyingParty.VerifiedAssertion, ConsentFailure>) -> String? {
        if case .failure(let failure) = result { return failure.reason }
        return nil
    }

    @Test("An assertion over the digest verifies, and remembers its counter", arguments: kinds)
    func assertionVerifies(kind: String) throws {
        let vector = Self.vector(kind).0
        #expect(try assertion(vector).get().signCount == 7)
    }

    @Test("Refused: wrong RP id, wrong origin, another challenge, a bad signature, a counter that does not grow, no user verification", arguments: kinds)
    func refusals(kind: String) throws {
        let vector = Self.vector(kind).0
        #expect(try refusal(assertion(vector, party: RelyingParty(id: "evil.example", origin: Self.vectors.origin)))?.contains("another relying party") == true)
        #expect(try refusal(assertion(vector, party: RelyingParty(id: Self.vectors.rp_id, origin: "https://localhost")))?.contains("origin") == true)
        var otherStatement = Self.vectors.statement
        otherStatement.level = "trust_code"
        #expect(try refusal(assertion(vector, challenge: ConsentDigest.of(otherStatement)))?.contains("another challenge") == true)
        var signature = bytes(vector.signature)
        signature[signature.count - 1] ^= 1
        #expect(try refusal(assertion(vector, signature: signature))?.contains("does not verify") == true)
        #expect(try refusal(assertion(vector, stored: 7))?.contains("counter") == true)
        #expect(try refusal(assertion(vector, stored: 9))?.contains("counter") == true)
        var noUV = bytes(vector.authenticator_data)
        noUV[32] = 0x01
        // Flags are signed: clearing UV breaks the signature too, but the flag check speaks first.
        #expect(try refusal(assertion(vector, authenticatorData: noUV))?.contains("user verification") == true)
        let register = bytes(vector.client_data_create)
        #expect(try refusal(assertion(vector, clientData: register))?.contains("webauthn.create") == true)
    }

    @Test("COSE keys other than ES256/P-256 and Ed25519 are refused with their parameters named")
    func unsupportedKeys() {
        // An RS256 key header (kty 3, alg -257) and truncated input.
        #expect(throws: ConsentFailure.self) { try CredentialPublicKey(cose: [0xA2, 0x01, 0x03, 0x03, 0x39, 0x01, 0x00]) }
        #expect(throws: ConsentFailure.self) { try CredentialPublicKey(cose: Array(bytes(Self.vectors.es256.cose).dropLast(3))) }
    }
}
