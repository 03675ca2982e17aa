import Foundation

/// A row's canonical encoding, the message its MAC covers: the table, then each field in a fixed order as
/// `name ‖ 0x00 ‖ tag ‖ length (8 bytes, big-endian) ‖ value`, tag `0` null, `1` text (UTF-8), `2` integer
/// (8 bytes, big-endian two's complement), `3` bytes. Lengths make it unambiguous: no value can run into
/// the next field, and a null is never an empty string.
///
/// Built over plaintext values (before sealing), so it is a pure function of the record, the same in every backend.
public struct RowEncoding: Sendable, Hashable {
    public private(set) var bytes: [UInt8]

    /// An encoding that starts with the table's name.
    public init(table: String) {
        bytes = []
        append(text: "table", table)
    }

    /// Appends a text field (`nil` as null).
    public mutating func append(text name: String, _ value: String?) {
        guard let value else { return appendNull(name) }
        append(name, tag: 1, Array(value.utf8))
    }

    /// Appends an integer field (`nil` as null).
    public mutating func append(integer name: String, _ value: Int64?) {
        guard let value else { return appendNull(name) }
        append(name, tag: 2, Self.bigEndian(UInt64(bitPattern: value)))
    }

    /// Appends a bytes field (`nil` as null).
    public mutating func append(bytes name: String, _ value: Data?) {
        guard let value else { return appendNull(name) }
        append(name, tag: 3, Array(value))
    }

    private mutating func appendNull(_ name: String) { append(name, tag: 0, []) }

    private mutating func append(_ name: String, tag: UInt8, _ value: [UInt8]) {
        bytes.append(contentsOf: name.utf8)
        bytes.append(0)
        bytes.append(tag)
        bytes.append(contentsOf: Self.bigEndian(UInt64(value.count)))
        bytes.append(contentsOf: value)
    }

    private static func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).reversed().map { UInt8(truncatingIfNeeded: value >> (UInt64($0) * 8)) }
    }
}
