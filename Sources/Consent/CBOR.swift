/// The part of CBOR (RFC 8949) that WebAuthn's attestation object and COSE keys use: integers, byte and
/// text strings, arrays, maps, and simple values. Definite lengths only (CTAP2's canonical form).
public indirect enum CBOR: Sendable, Hashable {
    case unsigned(UInt64)
    /// The value -1 - n.
    case negative(UInt64)
    case bytes([UInt8])
    case text(String)
    case array([CBOR])
    case map([CBORPair])
    case simple(UInt8)

    /// An integer key or value, when it is one that fits.
    public var int: Int? {
        switch self {
        case .unsigned(let n) where n <= UInt64(Int.max): Int(n)
        case .negative(let n) where n < UInt64(Int.max): -1 - Int(n)
        default: nil
        }
    }

    /// The value at integer key `key` of a map.
    public subscript(int key: Int) -> CBOR? {
        guard case .map(let pairs) = self else { return nil }
        return pairs.first { $0.key.int == key }?.value
    }

    /// The value at text key `key` of a map.
    public subscript(text key: String) -> CBOR? {
        guard case .map(let pairs) = self else { return nil }
        return pairs.first { $0.key == .text(key) }?.value
    }
}

public struct CBORPair: Sendable, Hashable {
    public let key: CBOR
    public let value: CBOR
}

/// Reads one CBOR item and says how many bytes it took (a COSE key sits inside authenticator data with
/// extensions after it).
public struct CBORReader {
    private let bytes: [UInt8]
    public private(set) var offset: Int
    private var depth = 0

    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    /// Decodes one item at the current offset.
    public mutating func read() throws(ConsentFailure) -> CBOR {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 16 else { throw .malformed("CBOR nested more than 16 deep") }
        let initial = try byte()
        let major = initial >> 5
        let argument = try length(initial & 0x1F)
        switch major {
        case 0: return .unsigned(argument)
        case 1: return .negative(argument)
        case 2: return .bytes(try take(argument))
        case 3:
            guard let text = String(validating: try take(argument), as: UTF8.self) else { throw .malformed("CBOR text is not UTF-8") }
            return .text(text)
        case 4:
            guard argument <= 1024 else { throw .malformed("CBOR array too long") }
            var items: [CBOR] = []
            for _ in 0..<argument { items.append(try read()) }
            return .array(items)
        case 5:
            guard argument <= 1024 else { throw .malformed("CBOR map too long") }
            var pairs: [CBORPair] = []
            for _ in 0..<argument { pairs.append(CBORPair(key: try read(), value: try read())) }
            return .map(pairs)
        case 7 where argument < 256: return .simple(UInt8(argument))
        default: throw .malformed("unsupported CBOR major type \(major)")
        }
    }

    private mutating func byte() throws(ConsentFailure) -> UInt8 {
        guard offset < bytes.count else { throw .malformed("CBOR ends early") }
        defer { offset += 1 }
        return bytes[offset]
    }

    private mutating func length(_ info: UInt8) throws(ConsentFailure) -> UInt64 {
        switch info {
        case 0..<24: return UInt64(info)
        case 24...27:
            var value: UInt64 = 0
            for _ in 0..<(1 << (info - 24)) { value = value << 8 | UInt64(try byte()) }
            return value
        default: throw .malformed("indefinite or reserved CBOR length")
        }
    }

    private mutating func take(_ count: UInt64) throws(ConsentFailure) -> [UInt8] {
        guard count <= UInt64(bytes.count - offset) else { throw .malformed("CBOR string longer than its input") }
        defer { offset += Int(count) }
        return Array(bytes[offset..<offset + Int(count)])
    }
}
