import Crypto
import Foundation
import OAuth3Wire

/// The cryptography of rows at rest, under the row key (HKDF of the vault key, `oauth3/rows/v1`): AES-256-GCM
/// for columns that hold what a tenant sent or got back, HMAC-SHA256 for a row's canonical encoding.
///
/// Pure values, no database: the SQLite store and any other backend make the same calls. Two subkeys are
/// derived from the row key, so a ciphertext can never be mistaken for a MAC or the reverse.
public struct RowCipher: Sendable {
    /// What a sealed column's text starts with; a value without it was not written by the daemon.
    public static let prefix = "o3r1:"
    private let sealing: SymmetricKey
    private let authenticating: SymmetricKey

    /// Derives the sealing and MAC keys from `rowKey`.
    public init(rowKey: SymmetricKey) {
        sealing = HKDF<SHA256>.deriveKey(inputKeyMaterial: rowKey, info: Data("seal".utf8), outputByteCount: 32)
        authenticating = HKDF<SHA256>.deriveKey(inputKeyMaterial: rowKey, info: Data("mac".utf8), outputByteCount: 32)
    }

    /// `value` sealed for one column of one row: `o3r1:` + base64(nonce ‖ ciphertext ‖ tag).
    public func seal(_ value: String, at address: ColumnAddress) throws -> String {
        let box = try AES.GCM.seal(Data(value.utf8), using: sealing, authenticating: address.associatedData)
        guard let combined = box.combined else { throw CryptoKitError.incorrectParameterSize }
        return Self.prefix + combined.base64EncodedString()
    }

    /// The plaintext of a sealed column, or `nil` when it does not open at `address` (edited, written by
    /// someone without the key, or moved from another row, tenant or column).
    public func open(_ stored: String, at address: ColumnAddress) -> String? {
        guard stored.hasPrefix(Self.prefix), let combined = Data(base64Encoded: String(stored.dropFirst(Self.prefix.count))),
              let box = try? AES.GCM.SealedBox(combined: combined),
              let plain = try? AES.GCM.open(box, using: sealing, authenticating: address.associatedData)
        else { return nil }
        return String(decoding: plain, as: UTF8.self)
    }

    /// The MAC (hex) of a row's canonical encoding.
    public func mac(_ encoding: RowEncoding) -> String {
        Self.hex(HMAC<SHA256>.authenticationCode(for: Domain.separated(Domain.rowMAC, encoding.bytes), using: authenticating))
    }

    private static let digits = Array("0123456789abcdef".utf8)

    /// Lower-case hex, without a `String(format:)` per byte (it runs at every row read and write).
    private static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Whether `mac` is the MAC of `encoding` (compared in constant time).
    public func verifies(_ mac: String, for encoding: RowEncoding) -> Bool {
        let expected = Array(self.mac(encoding).utf8), given = Array(mac.utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// Where a sealed value lives: its table, row, tenant and column, the associated data of its seal.
public struct ColumnAddress: Sendable, Hashable {
    public var table: String
    public var row: String
    public var tenant: String
    public var column: String

    public init(table: String, row: String, tenant: String, column: String) {
        self.table = table
        self.row = row
        self.tenant = tenant
        self.column = column
    }

    var associatedData: Data {
        Data(Domain.separated(Domain.rowColumn, Array([table, row, tenant, column].joined(separator: "\u{0}").utf8)))
    }
}
