import Crypto
import Foundation

/// Seals and opens tenant secrets with AES-256-GCM. The tenant and the secret's name are bound as
/// associated data, so a sealed value moved to another tenant or name does not open.
public struct Vault: Sendable {
    private let key: SymmetricKey
    /// The key provider's name, for `/healthz`.
    public let keySource: String

    /// Fetches the key once from `provider`.
    public init(provider: any KeyProvider) async throws(VaultError) {
        key = try await provider.vaultKey()
        keySource = provider.name
    }

    /// A vault over a key already in hand (tests).
    public init(key: SymmetricKey, source: String = "test") {
        self.key = key
        self.keySource = source
    }

    /// Seals `value`, the secret `name` of `tenant`.
    /// - Parameter binding: the canonical text of the hosts the value may be sent to, for a bound secret.
    ///   It is authenticated with the value, so whoever holds the database cannot rebind a secret to a host
    ///   of theirs (or unbind it into a job's environment): the value then no longer opens.
    public func seal(_ value: String, name: String, tenant: String, binding: String? = nil) throws(VaultError) -> SealedSecret {
        do {
            let box = try AES.GCM.seal(Data(value.utf8), using: key, authenticating: Self.associatedData(name: name, tenant: tenant, binding: binding))
            guard let combined = box.combined else { throw VaultError.sealing("no combined representation") }
            return SealedSecret(combined)
        } catch let error as VaultError {
            throw error
        } catch {
            throw .sealing("\(error)")
        }
    }

    /// Opens a sealed secret; fails if the key, the tenant, the name or the binding differ from when it was sealed.
    public func open(_ sealed: SealedSecret, name: String, tenant: String, binding: String? = nil) throws(VaultError) -> String {
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.combined)
            let plain = try AES.GCM.open(box, using: key, authenticating: Self.associatedData(name: name, tenant: tenant, binding: binding))
            return String(decoding: plain, as: UTF8.self)
        } catch {
            throw .opening(name: name)
        }
    }

    /// A sealed constant, stored once per database, so a daemon with the wrong key refuses to start
    /// instead of failing secret by secret.
    public func canary() throws(VaultError) -> SealedSecret {
        try seal(Self.canaryText, name: "canary", tenant: "vault")
    }

    /// Whether `sealed` is this vault's canary.
    public func opensCanary(_ sealed: SealedSecret) -> Bool {
        (try? open(sealed, name: "canary", tenant: "vault")) == Self.canaryText
    }

    static let canaryText = "oauth3-enclave vault canary v1"

    /// A key for `purpose`, derived from the vault key with HKDF-SHA256: as sealed to the enclave as the
    /// secrets are, so what it authenticates (the audit log's head) cannot be re-authenticated by whoever
    /// holds the database.
    public func derivedKey(for purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data(purpose.utf8), outputByteCount: 32)
    }

    /// `oauth3-secret/v1` for a value the job receives itself; `oauth3-secret/v2` with the binding for a bound one.
    static func associatedData(name: String, tenant: String, binding: String? = nil) -> Data {
        guard let binding else { return Data("oauth3-secret/v1\u{0}\(tenant)\u{0}\(name)".utf8) }
        return Data("oauth3-secret/v2\u{0}\(tenant)\u{0}\(name)\u{0}\(binding)".utf8)
    }
}

/// A secret as it is stored: nonce, ciphertext and tag. Only ``Vault/seal(_:name:tenant:)`` turns plaintext
/// into one, so code that persists `SealedSecret`s cannot persist plaintext.
public struct SealedSecret: Sendable, Hashable {
    /// The AES-GCM combined representation.
    public let combined: Data

    fileprivate init(_ combined: Data) { self.combined = combined }

    /// Rewraps bytes read back from storage (still sealed).
    public init(stored bytes: Data) { combined = bytes }
}

/// Why the vault could not do its job.
public struct VaultError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Hashable, Sendable { case keyFile, sealing, opening, keyProvider }
    private let code: Code
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public static func keyFile(_ message: String) -> Self { .init(.keyFile, message) }
    public static func sealing(_ message: String) -> Self { .init(.sealing, "cannot seal: \(message)") }
    public static func opening(name: String) -> Self { .init(.opening, "cannot open the sealed secret \(name): wrong key, tenant or name") }
    public static func keyProvider(_ message: String) -> Self { .init(.keyProvider, message) }

    public var description: String { message }
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
