/// Reads little-endian fields from untrusted bytes. Every read is bounds-checked and throws instead of
/// trapping, so a truncated or mutated quote is an error, never a crash.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func take(_ count: Int, _ field: String) throws(QuoteParseError) -> [UInt8] {
        guard count >= 0, count <= remaining else {
            throw QuoteParseError("\(field): needs \(count) bytes at offset \(offset), only \(max(remaining, 0)) left")
        }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func u16(_ field: String) throws(QuoteParseError) -> UInt16 {
        let b = try take(2, field)
        return UInt16(b[0]) | UInt16(b[1]) << 8
    }

    mutating func u32(_ field: String) throws(QuoteParseError) -> UInt32 {
        let b = try take(4, field)
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }
}

/// A quote that cannot be parsed, with the field that failed.
public struct QuoteParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "malformed quote: \(message)" }
}

extension Sequence<UInt8> {
    /// Lowercase hex, the form `bytes(fromHex:)` reads back.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(underestimatedCount * 2)
        for byte in self { out += [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]] }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Parses hex, with or without `0x`, ignoring surrounding whitespace. Only the digits 0-9, a-f, A-F:
/// no signs or spaces inside (`UInt8(_:radix:)` would take "+f").
public func bytes(fromHex text: String) -> [UInt8]? {
    var digits = Substring(text.trimmingCharactersOfWhitespace()).utf8
    if digits.starts(with: "0x".utf8) || digits.starts(with: "0X".utf8) { digits = digits.dropFirst(2) }
    guard digits.count % 2 == 0 else { return nil }
    func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
    var out: [UInt8] = []
    out.reserveCapacity(digits.count / 2)
    var iterator = digits.makeIterator()
    while let high = iterator.next(), let low = iterator.next() {
        guard let high = nibble(high), let low = nibble(low) else { return nil }
        out.append(high << 4 | low)
    }
    return out
}

extension String {
    func trimmingCharactersOfWhitespace() -> Substring {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return Substring(scalars[first...last])
    }
}
