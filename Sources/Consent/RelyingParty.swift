import Crypto
import Foundation

/// The WebAuthn relying party this daemon is: its RP id (a host name) and the origin its pages are
/// served from. Verifies registrations (enrolment) and assertions (decisions) against them.
///
/// Both ceremonies require user presence and user verification (UV: a PIN or biometric), so a
/// decision needs the person, not just a touch of a key left plugged in. Attestation is not
/// requested (`attestation: "none"`): what makes a key an approver's is that it was enrolled through
/// this daemon's page by someone allowed to, not who made the authenticator.
public struct RelyingParty: Sendable, Hashable {
    public let id: String
    public let origin: String

    public init(id: String, origin: String) {
        self.id = id
        self.origin = origin
    }

    /// The credential a registration enrolled.
    public struct Registration: Sendable {
        public let credentialId: [UInt8]
        public let publicKey: CredentialPublicKey
        public let signCount: UInt32
    }

    /// A verified assertion: the counter to remember.
    public struct VerifiedAssertion: Sendable, Hashable {
        public let signCount: UInt32
    }

    /// Checks a `navigator.credentials.create` reply made for `challenge`.
    public func verifyRegistration(attestationObject: [UInt8], clientDataJSON: [UInt8], challenge: [UInt8]) -> Result<Registration, ConsentFailure> {
        do {
            try checkClientData(clientDataJSON, type: "webauthn.create", challenge: challenge)
            var reader = CBORReader(attestationObject)
            let object = try reader.read()
            guard case .bytes(let raw)? = object[text: "authData"] else { throw ConsentFailure.malformed("the attestation object has no authData") }
            let data = try AuthenticatorData(raw)
            try checkFlags(data)
            guard let id = data.credentialId, let key = data.credentialKey else { throw ConsentFailure("the registration carries no credential") }
            return .success(Registration(credentialId: id, publicKey: key, signCount: data.signCount))
        } catch {
            return .failure(error as? ConsentFailure ?? ConsentFailure("\(error)"))
        }
    }

    /// Checks a `navigator.credentials.get` reply made for `challenge` by the credential with `publicKey`,
    /// whose counter was last `storedCount`. A counter that does not grow (when either is non-zero) means
    /// the authenticator was cloned or the assertion replayed.
    public func verifyAssertion(
        authenticatorData: [UInt8], clientDataJSON: [UInt8], signature: [UInt8], challenge: [UInt8], publicKey: CredentialPublicKey, storedCount: UInt32
    ) -> Result<VerifiedAssertion, ConsentFailure> {
        do {
            try checkClientData(clientDataJSON, type: "webauthn.get", challenge: challenge)
            let data = try AuthenticatorData(authenticatorData)
            try checkFlags(data)
            guard publicKey.isValidSignature(signature, for: authenticatorData + Array(SHA256.hash(data: clientDataJSON))) else {
                throw ConsentFailure("the passkey signature does not verify")
            }
            if data.signCount != 0 || storedCount != 0, data.signCount <= storedCount {
                throw ConsentFailure("the signature counter went from \(storedCount) to \(data.signCount): a cloned authenticator or a replay")
            }
            return .success(VerifiedAssertion(signCount: data.signCount))
        } catch {
            return .failure(error as? ConsentFailure ?? ConsentFailure("\(error)"))
        }
    }

    private func checkFlags(_ data: AuthenticatorData) throws(ConsentFailure) {
        guard data.rpIdHash == Array(SHA256.hash(data: Array(id.utf8))) else {
            throw ConsentFailure("the authenticator signed for another relying party (RP id hash is not SHA-256(\"\(id)\"))")
        }
        guard data.userPresent else { throw ConsentFailure("the authenticator reports no user presence") }
        guard data.userVerified else { throw ConsentFailure("the authenticator reports no user verification (PIN or biometric)") }
    }

    private func checkClientData(_ json: [UInt8], type: String, challenge: [UInt8]) throws(ConsentFailure) {
        let client = try ClientData(json)
        guard client.type == type else { throw ConsentFailure("client data type is \(client.type), expected \(type)") }
        guard client.challenge == Base64URL.encode(challenge) else { throw ConsentFailure("the assertion was made for another challenge") }
        guard client.origin == origin else { throw ConsentFailure("the assertion comes from origin \(client.origin), expected \(origin)") }
        guard client.crossOrigin != true else { throw ConsentFailure("the assertion was made in a cross-origin frame") }
    }
}

/// `clientDataJSON` (§5.8.1): the fields a relying party checks.
public struct ClientData: Decodable, Sendable {
    public let type: String
    public let challenge: String
    public let origin: String
    public let crossOrigin: Bool?

    public init(_ json: [UInt8]) throws(ConsentFailure) {
        do { self = try JSONDecoder().decode(ClientData.self, from: Data(json)) } catch { throw .malformed("clientDataJSON: \(error)") }
    }
}
