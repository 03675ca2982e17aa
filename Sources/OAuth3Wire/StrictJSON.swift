import Foundation

/// The one way untrusted JSON is read: a validating scan in front of `JSONDecoder`, so every reader of
/// a document (the daemon, the client, `verify`, Python, jq) sees the same values.
///
/// `JSONDecoder` keeps the last of two equal keys, Python the last, other readers the first; a result
/// with `"stdout"` twice could verify under one reading and be shown under another. It also takes
/// `\ud800` (a lone surrogate) and numbers like `1.0`, `1e2` or `-0`, which hash to nothing stable. This
/// scan refuses all three, and anything that is not RFC 8259 JSON, naming the byte offset:
/// - an object key that appears twice in one object (compared after unescaping);
/// - a `\u` escape that is a lone high or low surrogate, and bytes that are not UTF-8;
/// - a number whose text is not exactly what ``CanonicalJSON`` writes for its value (so `1`, `-2`, `0.5`,
///   never `1.0`, `01`, `1e2`, `-0`, nor an integer beyond 2^53 that a double cannot hold).
public enum StrictJSON {
    /// Checks `bytes` and decodes them as `T` with `JSONDecoder`.
    /// - Throws: ``StrictJSONError`` for a document the scan refuses, else the decoder's error.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        let data = Data(bytes)
        try validate(data)
        return try JSONDecoder().decode(T.self, from: data)
    }

    /// Checks that `bytes` are one strict JSON document (see ``StrictJSON``).
    public static func validate(_ bytes: some Collection<UInt8>) throws(StrictJSONError) {
        var scanner = Scanner(bytes: Array(bytes))
        if let invalid = firstInvalidUTF8(scanner.bytes) { throw StrictJSONError(problem: "bytes that are not UTF-8", offset: invalid) }
        scanner.skipWhitespace()
        try scanner.value(depth: 0)
        scanner.skipWhitespace()
        guard scanner.index == scanner.bytes.count else { throw scanner.error("unexpected text after the JSON value") }
    }

    /// Deeper than this is refused rather than risking the stack.
    static let maximumDepth = 512

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        func error(_ problem: String, at offset: Int? = nil) -> StrictJSONError { StrictJSONError(problem: problem, offset: offset ?? index) }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
        }

        mutating func expect(_ literal: String) throws(StrictJSONError) {
            let start = index
            for byte in literal.utf8 {
                guard current == byte else { throw error("expected '\(literal)'", at: start) }
                index += 1
            }
        }

        mutating func value(depth: Int) throws(StrictJSONError) {
            guard depth < StrictJSON.maximumDepth else { throw error("nested deeper than \(StrictJSON.maximumDepth) levels") }
            guard let byte = current else { throw error("unexpected end of the document") }
            switch byte {
            case UInt8(ascii: "{"): try object(depth: depth)
            case UInt8(ascii: "["): try array(depth: depth)
            case UInt8(ascii: "\""): try skipString()
            case UInt8(ascii: "t"): try expect("true")
            case UInt8(ascii: "f"): try expect("false")
            case UInt8(ascii: "n"): try expect("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
            default: throw error("unexpected character")
            }
        }

        mutating func object(depth: Int) throws(StrictJSONError) {
            index += 1
            var keys = Set<String>()
            skipWhitespace()
            if current == UInt8(ascii: "}") { index += 1; return }
            while true {
                skipWhitespace()
                let keyOffset = index
                guard current == UInt8(ascii: "\"") else { throw error("expected an object key (a string)") }
                let key = try string()
                guard keys.insert(key).inserted else { throw error("duplicate key \"\(key)\"", at: keyOffset) }
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw error("expected ':' after key \"\(key)\"") }
                index += 1
                skipWhitespace()
                try value(depth: depth + 1)
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "}"): index += 1; return
                default: throw error("expected ',' or '}' in an object")
                }
            }
        }

        mutating func array(depth: Int) throws(StrictJSONError) {
            index += 1
            skipWhitespace()
            if current == UInt8(ascii: "]") { index += 1; return }
            while true {
                skipWhitespace()
                try value(depth: depth + 1)
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"): index += 1; return
                default: throw error("expected ',' or ']' in an array")
                }
            }
        }

        /// Checks a string value (control characters, escapes, surrogates) without building it.
        mutating func skipString() throws(StrictJSONError) {
            let start = index
            index += 1
            while true {
                guard let byte = current else { throw error("unterminated string", at: start) }
                if byte == UInt8(ascii: "\"") { index += 1; return }
                if byte < 0x20 { throw error("a control character inside a string must be escaped") }
                if byte == UInt8(ascii: "\\") { _ = try escape() } else { index += 1 }
            }
        }

        /// A string's value, unescaped (object keys, which must be compared); the document is valid UTF-8.
        mutating func string() throws(StrictJSONError) -> String {
            let start = index
            try skipString()
            let body = bytes[(start + 1)..<(index - 1)]
            guard body.contains(UInt8(ascii: "\\")) else { return String(decoding: body, as: UTF8.self) }
            var scalars = String.UnicodeScalarView()
            var reader = Scanner(bytes: bytes, index: start + 1)
            while reader.index < index - 1 {
                if reader.bytes[reader.index] == UInt8(ascii: "\\") {
                    scalars.append(try reader.escape())
                } else {
                    let runStart = reader.index
                    while reader.index < index - 1, reader.bytes[reader.index] != UInt8(ascii: "\\") { reader.index += 1 }
                    scalars.append(contentsOf: String(decoding: bytes[runStart..<reader.index], as: UTF8.self).unicodeScalars)
                }
            }
            return String(scalars)
        }

        /// One escape sequence, `\` included; a surrogate must come as a high-low pair.
        mutating func escape() throws(StrictJSONError) -> Unicode.Scalar {
            let start = index
            index += 1
            guard let letter = current else { throw error("unterminated escape", at: start) }
            index += 1
            switch letter {
            case UInt8(ascii: "\""): return "\""
            case UInt8(ascii: "\\"): return "\\"
            case UInt8(ascii: "/"): return "/"
            case UInt8(ascii: "b"): return "\u{08}"
            case UInt8(ascii: "f"): return "\u{0C}"
            case UInt8(ascii: "n"): return "\n"
            case UInt8(ascii: "r"): return "\r"
            case UInt8(ascii: "t"): return "\t"
            case UInt8(ascii: "u"):
                let unit = try hex4(escapeStart: start)
                if (0xDC00...0xDFFF).contains(unit) { throw error("lone low surrogate \\u\(String(unit, radix: 16))", at: start) }
                if (0xD800...0xDBFF).contains(unit) {
                    guard current == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                        throw error("lone high surrogate \\u\(String(unit, radix: 16))", at: start)
                    }
                    index += 2
                    let low = try hex4(escapeStart: start)
                    guard (0xDC00...0xDFFF).contains(low) else { throw error("lone high surrogate \\u\(String(unit, radix: 16))", at: start) }
                    return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))!
                }
                return Unicode.Scalar(unit)!
            default: throw error("unknown escape", at: start)
            }
        }

        mutating func hex4(escapeStart: Int) throws(StrictJSONError) -> UInt32 {
            guard index + 4 <= bytes.count, let unit = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16),
                bytes[index..<index + 4].allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") })
            else { throw error("\\u must be followed by four hex digits", at: escapeStart) }
            index += 4
            return unit
        }

        /// A number in RFC 8259's grammar whose text is also ``CanonicalJSON``'s for its value.
        mutating func number() throws(StrictJSONError) {
            let start = index
            func digits(_ scanner: inout Scanner) -> Int {
                let from = scanner.index
                while let byte = scanner.current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { scanner.index += 1 }
                return scanner.index - from
            }
            if current == UInt8(ascii: "-") { index += 1 }
            guard digits(&self) > 0 else { throw error("a number needs digits", at: start) }
            if current == UInt8(ascii: ".") {
                index += 1
                guard digits(&self) > 0 else { throw error("a number needs digits after '.'", at: start) }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard digits(&self) > 0 else { throw error("a number needs digits in its exponent", at: start) }
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            guard let value = Double(text), value.isFinite,
                CanonicalJSON.encode(.number(value)) == Array(text.utf8)
            else {
                throw error("number \(text) is not in canonical form (write integers without fraction or exponent, within ±2^53)", at: start)
            }
        }
    }
}

extension StrictJSON {
    /// The offset of the first byte that does not begin or continue a well-formed UTF-8 sequence (RFC 3629:
    /// no overlong forms, no surrogates, nothing above U+10FFFF), or nil when all of `bytes` is UTF-8.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            if lead < 0x80 { index += 1; continue }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF  // the range of the first continuation byte
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return index
            }
            guard index + length <= bytes.count, (low...high).contains(bytes[index + 1]) else { return index }
            for offset in 2..<max(2, length) where !(0x80...0xBF).contains(bytes[index + offset]) { return index }
            index += length
        }
        return nil
    }
}

/// Why a JSON document was refused, and where: the byte offset from its start.
public struct StrictJSONError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong.
    public let problem: String
    /// The byte offset (from 0) where it was found.
    public let offset: Int

    public init(problem: String, offset: Int) {
        self.problem = problem
        self.offset = offset
    }

    public var description: String { "\(problem) at byte \(offset)" }
}
