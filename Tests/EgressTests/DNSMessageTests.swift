@testable import Egress
import Testing

@Suite("DNS messages")
struct DNSMessageTests {
    /// A response to `query` with `records` (owner pointer, type, rdata) and flags/rcode as given.
    func response(to query: [UInt8], flags: UInt8 = 0x81, rcode: UInt8 = 0, answers: [[UInt8]]) -> [UInt8] {
        var out = Array(query[0..<2]) + [flags, 0x80 | rcode, 0, 1, 0, UInt8(answers.count), 0, 0, 0, 0]
        out += query[12...]
        for answer in answers { out += answer }
        return out
    }
    func record(owner: [UInt8] = [0xC0, 12], type: UInt16, data: [UInt8]) -> [UInt8] {
        owner + [UInt8(type >> 8), UInt8(type & 0xFF), 0, 1, 0, 0, 0, 60, 0, UInt8(data.count)] + data
    }

    @Test("A query is a recursive question in wire format")
    func query() throws {
        let bytes = try #require(DNSMessage.query(id: 0x1234, name: "Api.Example.com.", type: .a))
        #expect(bytes == [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3] + Array("api".utf8) + [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0, 0, 1, 0, 1])
        #expect(DNSMessage.query(id: 1, name: "a..b", type: .a) == nil)
        #expect(DNSMessage.query(id: 1, name: String(repeating: "a", count: 64) + ".com", type: .a) == nil)
    }

    @Test("Addresses come from the answer, through CNAMEs, for the asked type only")
    func answers() throws {
        let query = try #require(DNSMessage.query(id: 7, name: "www.example.com", type: .a))
        // www.example.com CNAME edge.example.net (spelt out at offset 33), edge.example.net A 192.0.2.7,
        // an unrelated A record for another name, and an AAAA record.
        let cnameTarget: [UInt8] = [4] + Array("edge".utf8) + [7] + Array("example".utf8) + [3] + Array("net".utf8) + [0]
        let targetOffset = UInt8(query.count + 12)
        let message = response(to: query, answers: [
            record(type: 5, data: cnameTarget),
            record(owner: [0xC0, targetOffset], type: 1, data: [192, 0, 2, 7]),
            record(owner: [5] + Array("other".utf8) + [0], type: 1, data: [10, 0, 0, 1]),
            record(owner: [0xC0, targetOffset], type: 28, data: Array(repeating: 1, count: 16)),
        ])
        #expect(try DNSMessage.addresses(in: message, id: 7, name: "www.example.com", type: .a).get() == [IPAddress("192.0.2.7")!])
    }

    @Test("Unusable answers are failures, named")
    func failures() throws {
        let query = try #require(DNSMessage.query(id: 9, name: "a.example", type: .a))
        let ok = response(to: query, answers: [record(type: 1, data: [1, 2, 3, 4])])
        #expect(try DNSMessage.addresses(in: ok, id: 9, name: "a.example", type: .a).get() == [IPAddress("1.2.3.4")!])
        #expect(DNSMessage.addresses(in: ok, id: 10, name: "a.example", type: .a) == .failure(.malformed("another query's id")))
        #expect(DNSMessage.addresses(in: ok, id: 9, name: "b.example", type: .a) == .failure(.malformed("the answer is for another question")))
        #expect(DNSMessage.addresses(in: response(to: query, rcode: 3, answers: []), id: 9, name: "a.example", type: .a) == .failure(.noSuchName))
        #expect(DNSMessage.addresses(in: response(to: query, rcode: 2, answers: []), id: 9, name: "a.example", type: .a) == .failure(.serverFailure(2)))
        #expect(DNSMessage.addresses(in: response(to: query, flags: 0x83, answers: []), id: 9, name: "a.example", type: .a) == .failure(.truncated))
        #expect(DNSMessage.addresses(in: response(to: query, answers: [record(type: 1, data: [1, 2, 3])]), id: 9, name: "a.example", type: .a)
            == .failure(.malformed("address record of 3 bytes")))
        #expect(DNSMessage.addresses(in: Array(ok.dropLast(2)), id: 9, name: "a.example", type: .a) == .failure(.malformed("message ends early")))
        // A name pointer that points at itself.
        let loop = response(to: query, answers: [record(owner: [0xC0, UInt8(query.count)], type: 1, data: [1, 2, 3, 4])])
        var looped = loop
        looped[query.count] = 0xC0
        looped[query.count + 1] = UInt8(query.count)
        #expect(DNSMessage.addresses(in: looped, id: 9, name: "a.example", type: .a) == .failure(.malformed("bad name pointer")))
    }

    @Test("Every truncation of a real answer fails cleanly, never traps")
    func truncations() throws {
        let query = try #require(DNSMessage.query(id: 3, name: "a.example", type: .a))
        let message = response(to: query, answers: [record(type: 5, data: [1, 0x62, 0xC0, 12]), record(type: 1, data: [1, 2, 3, 4])])
        for length in 0..<message.count {
            guard case .failure = DNSMessage.addresses(in: Array(message[..<length]), id: 3, name: "a.example", type: .a) else {
                Issue.record("a message cut at \(length) bytes was accepted")
                continue
            }
        }
    }
}
