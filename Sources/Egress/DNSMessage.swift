/// The two DNS messages the proxy needs (RFC 1035): an `A` or `AAAA` query, and the addresses in its
/// answer, following `CNAME`s. Pure, so every malformed answer can be tested without a server.
enum DNSMessage {
    enum RecordType: UInt16, Sendable {
        case a = 1, cname = 5, aaaa = 28
    }

    /// A recursive query for `name`.
    static func query(id: UInt16, name: String, type: RecordType) -> [UInt8]? {
        var out: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        guard let encoded = encode(name) else { return nil }
        out += encoded
        out += [UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xFF), 0, 1]
        return out
    }

    /// The addresses of `type` that `message` gives for `name` (directly or through a `CNAME` chain).
    /// - Returns: the addresses (possibly none), or why the answer is unusable.
    static func addresses(in message: [UInt8], id: UInt16, name: String, type: RecordType) -> Result<[IPAddress], DNSFailure> {
        var reader = Reader(bytes: message)
        do {
            let header = try reader.bytes(12)
            guard UInt16(header[0]) << 8 | UInt16(header[1]) == id else { throw DNSFailure.malformed("another query's id") }
            guard header[2] & 0x80 != 0, header[2] & 0x78 == 0 else { throw DNSFailure.malformed("not a standard response") }
            guard header[2] & 0x02 == 0 else { throw DNSFailure.truncated }
            switch header[3] & 0x0F {
            case 0: break
            case 3: throw DNSFailure.noSuchName
            case let code: throw DNSFailure.serverFailure(Int(code))
            }
            let questions = Int(header[4]) << 8 | Int(header[5])
            let answers = Int(header[6]) << 8 | Int(header[7])
            guard questions == 1 else { throw DNSFailure.malformed("\(questions) questions") }
            let asked = try reader.name()
            let askedType = try reader.uint16()
            _ = try reader.uint16()
            guard asked.lowercased() == canonical(name), askedType == type.rawValue else {
                throw DNSFailure.malformed("the answer is for another question")
            }
            var cnames: [String: String] = [:]
            var found: [(owner: String, address: IPAddress)] = []
            for _ in 0..<answers {
                let owner = try reader.name().lowercased()
                let recordType = try reader.uint16()
                let recordClass = try reader.uint16()
                _ = try reader.bytes(4)  // TTL: the proxy resolves for every connection and caches nothing
                let length = Int(try reader.uint16())
                let start = reader.offset
                guard recordClass == 1 else { _ = try reader.bytes(length); continue }
                switch recordType {
                case RecordType.a.rawValue, RecordType.aaaa.rawValue:
                    guard length == (recordType == RecordType.a.rawValue ? 4 : 16) else {
                        throw DNSFailure.malformed("address record of \(length) bytes")
                    }
                    let address = IPAddress(bytes: try reader.bytes(length))!
                    if recordType == type.rawValue { found.append((owner, address)) }
                case RecordType.cname.rawValue:
                    cnames[owner] = try reader.name().lowercased()
                    guard reader.offset == start + length else { throw DNSFailure.malformed("CNAME length") }
                default:
                    _ = try reader.bytes(length)
                }
            }
            var chain: Set<String> = [canonical(name)]
            var current = canonical(name)
            while let next = cnames[current], chain.insert(next).inserted { current = next }
            return .success(found.filter { chain.contains($0.owner) }.map(\.address))
        } catch let failure as DNSFailure {
            return .failure(failure)
        } catch {
            return .failure(.malformed("\(error)"))
        }
    }

    static func canonical(_ name: String) -> String {
        (name.hasSuffix(".") ? String(name.dropLast()) : name).lowercased()
    }

    /// `api.example.com` as length-prefixed labels; `nil` for an empty or over-long label or name.
    static func encode(_ name: String) -> [UInt8]? {
        let labels = canonical(name).split(separator: ".", omittingEmptySubsequences: false)
        var out: [UInt8] = []
        for label in labels {
            let bytes = Array(label.utf8)
            guard (1...63).contains(bytes.count) else { return nil }
            out += [UInt8(bytes.count)] + bytes
        }
        out.append(0)
        return out.count <= 255 ? out : nil
    }

    /// Bounds-checked reading, with name decompression that refuses loops.
    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func bytes(_ count: Int) throws(DNSFailure) -> [UInt8] {
            guard count >= 0, offset + count <= bytes.count else { throw .malformed("message ends early") }
            defer { offset += count }
            return Array(bytes[offset..<offset + count])
        }

        mutating func uint16() throws(DNSFailure) -> UInt16 {
            let two = try bytes(2)
            return UInt16(two[0]) << 8 | UInt16(two[1])
        }

        /// A possibly compressed name; the reader moves past its in-place part only.
        mutating func name() throws(DNSFailure) -> String {
            var labels: [String] = []
            var position = offset
            var jumped = false
            var jumps = 0
            while true {
                guard position < bytes.count else { throw .malformed("name runs past the message") }
                let length = Int(bytes[position])
                if length & 0xC0 == 0xC0 {
                    guard position + 1 < bytes.count, jumps < 16 else { throw .malformed("bad name pointer") }
                    let target = (length & 0x3F) << 8 | Int(bytes[position + 1])
                    if !jumped { offset = position + 2 }
                    jumped = true
                    jumps += 1
                    position = target
                    continue
                }
                guard length & 0xC0 == 0 else { throw .malformed("bad label type") }
                if length == 0 {
                    if !jumped { offset = position + 1 }
                    return labels.joined(separator: ".")
                }
                guard position + 1 + length <= bytes.count else { throw .malformed("label runs past the message") }
                labels.append(String(decoding: bytes[(position + 1)...(position + length)], as: UTF8.self))
                position += 1 + length
            }
        }
    }
}

/// Why a name did not resolve.
public enum DNSFailure: Error, Sendable, Hashable, CustomStringConvertible {
    case noSuchName
    case serverFailure(Int)
    case truncated
    case malformed(String)
    case timeout
    case noNameservers
    case transport(String)

    public var description: String {
        switch self {
        case .noSuchName: "no such name"
        case .serverFailure(let code): "the name server answered with error code \(code)"
        case .truncated: "the answer was truncated (too many addresses)"
        case .malformed(let detail): "malformed answer (\(detail))"
        case .timeout: "no answer from the name server in time"
        case .noNameservers: "no name server is configured"
        case .transport(let detail): "could not ask the name server: \(detail)"
        }
    }
}
