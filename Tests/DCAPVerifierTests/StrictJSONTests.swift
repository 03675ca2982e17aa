import DCAPVerifier
import Foundation
import OAuth3Wire
import Testing

/// One strict JSON reading: what every reader of untrusted JSON refuses, and where it says it found it.
@Suite("Strict JSON")
struct StrictJSONTests {
    func refusal(_ text: String) -> StrictJSONError? {
        do {
            try StrictJSON.validate(Array(text.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test("Duplicate keys are refused at the second key's offset, also when only escapes differ and when nested")
    func duplicateKeys() {
        #expect(refusal(#"{"stdout":"a","stdout":"b"}"#) == StrictJSONError(problem: "duplicate key \"stdout\"", offset: 14))
        #expect(refusal(#"{"a":1,"\u0061":2}"#)?.problem == "duplicate key \"a\"")
        #expect(refusal(#"[{"x":{"k":1,"k":1}}]"#)?.offset == 13)
        #expect(refusal(#"{"a":1,"b":{"a":2}}"#) == nil)
    }

    @Test("Lone surrogates are refused; a proper pair is read", arguments: [#""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #""x\uDBFFy""#])
    func loneSurrogates(text: String) {
        #expect(refusal(text)?.problem.contains("lone") == true, "\(text)")
    }

    @Test("A surrogate pair and raw UTF-8 are fine; bytes that are not UTF-8 are not")
    func unicode() throws {
        #expect(refusal(#""\ud83d\ude00""#) == nil)
        let key = try StrictJSON.decode([String: String].self, from: Array(#"{"\ud83d\ude00":"é"}"#.utf8))
        #expect(key == ["😀": "é"])
        #expect(throws: StrictJSONError.self) { try StrictJSON.validate([0x22, 0xFF, 0x22]) }
    }

    @Test("Numbers only in canonical form", arguments: ["0", "-1", "12", "0.5", "1.25", "9007199254740991"])
    func canonicalNumbers(text: String) {
        #expect(refusal(text) == nil, "\(text)")
    }

    @Test("Numbers outside the canonical form are refused at their offset",
          arguments: ["1.0", "01", "-0", "1e2", "1E2", "2.50", "9007199254740993", "1e400", "-", "1."])
    func nonCanonicalNumbers(text: String) {
        let error = refusal("[" + text + "]")
        #expect(error?.offset == 1, "\(text): \(String(describing: error))")
    }

    @Test("Grammar: trailing text, trailing commas, unescaped control characters, single quotes")
    func grammar() {
        for text in ["{} x", "[1,]", "{\"a\":1,}", "\"a\u{01}\"", "{'a':1}", "", "[1 2]"] {
            #expect(refusal(text) != nil, "\(text)")
        }
        #expect(refusal(" {\"a\" : [true, false, null, \"\\n\\/\"]}\n") == nil)
    }

    @Test("Collateral and event logs with a duplicate key are refused by their decoders")
    func decoders() throws {
        let collateral = String(decoding: try Vectors.data("dcap/tdx_quote_collateral.json"), as: UTF8.self)
        #expect(collateral.hasPrefix("{"))
        let doubled = "{\"tcb_info\":\"x\"," + collateral.dropFirst()
        #expect { try Collateral.decode(Array(doubled.utf8)) } throws: { "\($0)".contains("duplicate key \"tcb_info\"") }
        let log = String(decoding: try Vectors.data("dstack/simulator_v055_eventlog.json"), as: UTF8.self)
        let twice = log.replacingOccurrences(of: "\"event\":\"compose-hash\"", with: "\"event\":\"compose-hash\",\"event\":\"app-id\"")
        #expect(twice != log)
        #expect { try EventLog.decode(Array(twice.utf8)) } throws: { "\($0)".contains("duplicate key \"event\"") }
    }
}
