import Jail
import Testing

@Suite("The environment block (the program's environment on the jail's stdin)")
struct EnvironmentBlockTests {
    /// The entries of an encoded block, decoded the way the jail decodes them.
    func decoded(_ block: [UInt8]) throws -> [String] {
        let length = try EnvironmentBlock.bodyLength(header: block.prefix(EnvironmentBlock.headerSize))
        let body = Array(block.dropFirst(EnvironmentBlock.headerSize))
        #expect(body.count == length)
        return try EnvironmentBlock.entries(in: body).map { String(decoding: body[$0], as: UTF8.self) }
    }

    @Test("Encoding and decoding round-trip every entry, in order, values holding '=', spaces and any non-NUL byte")
    func roundTrip() throws {
        let entries = [("HOME", "/home"), ("_UNDERSCORE", ""), ("A1", "x=y=z"), ("lower_case", "spaces and\ttabs\n"), ("UNICODE", "Grüße ✓")]
        #expect(try decoded(EnvironmentBlock.encode(entries)) == entries.map { "\($0.0)=\($0.1)" })
        #expect(try decoded(EnvironmentBlock.encode([])) == [])
    }

    @Test("The header is the magic and the body's length, big-endian; each entry ends in NUL")
    func layout() throws {
        #expect(try EnvironmentBlock.encode([("A", "1"), ("B", "")]) == Array("O3E1".utf8) + [0, 0, 0, 7] + Array("A=1\0B=\0".utf8))
        #expect(try EnvironmentBlock.bodyLength(header: Array("O3E1".utf8) + [0, 1, 0, 2]) == 65538)
    }

    @Test("The daemon cannot encode what the jail would refuse; no value is quoted", arguments: [
        ([("", "v")], "entry 0: the name is not"), ([("1A", "v")], "entry 0: the name is not"), ([("A-B", "v")], "entry 0: the name is not"),
        ([("A=B", "v")], "entry 0: the name is not"), ([("ÉTÉ", "v")], "entry 0: the name is not"),
        ([("OK", "v"), ("TOKEN", "zq9\0zq9")], "entry 1 (TOKEN): the value holds a NUL byte"),
        ([("A", "zq9-1"), ("B", "2"), ("A", "zq9-3")], "entry 2 repeats A of entry 0"),
        ([("BIG", String(repeating: "v", count: EnvironmentBlock.maxBodyBytes))], "larger than the 2097152-byte limit"),
    ] as [([(String, String)], String)])
    func encodeRefuses(entries: [(String, String)], message: String) {
        #expect {
            try EnvironmentBlock.encode(entries.map { (name: $0.0, value: $0.1) })
        } throws: { error in
            guard let failure = error as? JailFailure else { return false }
            return failure.stage == .environment && failure.detail.contains(message) && !failure.detail.contains("zq9")
        }
    }

    @Test("A header that is short, of another format or announcing too much is refused before anything is allocated", arguments: [
        (Array("O3E1".utf8) + [0, 0, 0], "does not start with an environment block"),
        (Array("O3E2".utf8) + [0, 0, 0, 0], "does not start with an environment block"),
        (Array("// @s".utf8) + [0, 0, 0], "does not start with an environment block"),
        (Array("O3E1".utf8) + [0, 0x20, 0, 1], "an environment block of 2097153 bytes is larger than the 2097152-byte limit"),
        (Array("O3E1".utf8) + [0xFF, 0xFF, 0xFF, 0xFF], "larger than the 2097152-byte limit"),
    ] as [([UInt8], String)])
    func badHeaders(header: [UInt8], message: String) {
        do throws(JailFailure) {
            _ = try EnvironmentBlock.bodyLength(header: header)
            Issue.record("accepted \(header)")
        } catch {
            #expect(error.stage == .environment && error.detail.contains(message), "\(error.detail)")
        }
    }

    @Test("A malformed body is refused naming the entry, never its bytes", arguments: [
        ("A=1", "the last entry is not NUL-terminated"), ("A=1\0\0", "entry 1 is empty"), ("secret-value\0", "entry 0 has no NAME="),
        ("=secret-value\0", "entry 0: the name is not"), ("9X=secret-value\0", "entry 0: the name is not"),
        ("A B=secret-value\0", "entry 0: the name is not"), ("A=1\0B=2\0A=secret-value\0", "entry 2 repeats A of entry 0"),
    ])
    func badBodies(body: String, message: String) {
        do throws(JailFailure) {
            _ = try EnvironmentBlock.entries(in: Array(body.utf8))
            Issue.record("accepted \(body.debugDescription)")
        } catch {
            #expect(error.stage == .environment && error.detail.contains(message), "\(error.detail)")
            #expect(!error.detail.contains("secret"))
        }
    }
}
