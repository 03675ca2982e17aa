import DCAPVerifier
import Foundation
import TestSupport
import Testing

/// The OS measurements policy on the simulator's quote, with pins built from the quote's bytes at the offsets
/// the TDX layout gives (MRTD at 184, RTMR0–2 at 376, 424, 472), not from the parser under test.
@Suite("Pinned OS measurements")
struct OSPinTests {
    static func simulator() throws -> (quote: Quote, raw: [UInt8]) {
        let raw = try Vectors.hex("dstack/simulator_v055_quote.hex")
        return (try Quote.parse(raw), raw)
    }

    static func pin(_ raw: [UInt8], change register: Int? = nil) -> PinnedOS {
        let offsets = [184, 376, 424, 472]
        var values = offsets.map { Array(raw[$0..<$0 + 48]) }
        if let register { values[register][0] ^= 1 }
        func value(_ bytes: [UInt8]) -> PinnedOS.Value { .init(hex: bytes.map { String(format: "%02x", $0) }.joined(), source: "test: the quote's bytes") }
        return PinnedOS(release: "test-release", mrtd: value(values[0]), rtmr0: value(values[1]), rtmr1: value(values[2]), rtmr2: value(values[3]))
    }

    static func verdict(_ expectation: OSExpectation?, quote: Quote) -> PolicyVerdict {
        OSMeasurementPolicy(expectation).evaluate(AttestationEvidence(quote: quote, entries: nil))
    }

    @Test("The quote's own measurements meet the pin")
    func matching() throws {
        let (quote, raw) = try Self.simulator()
        #expect(Self.verdict(.pinned(Self.pin(raw)), quote: quote) == .meetsPolicy("MRTD and RTMR0–2 are those of test-release"))
    }

    @Test("A changed MRTD or any of RTMR0–2 fails, naming the register", arguments: zip(0..<4, ["MRTD", "RTMR0", "RTMR1", "RTMR2"]))
    func changed(register: Int, name: String) throws {
        let (quote, raw) = try Self.simulator()
        guard case .failsToMeetPolicy(let reason) = Self.verdict(.pinned(Self.pin(raw, change: register)), quote: quote) else {
            Issue.record("a changed \(name) met the pin")
            return
        }
        #expect(reason.hasPrefix("not the pinned OS: \(name) is "), "\(reason)")
    }

    @Test("No pin fails as not pinned; the explicit opt-out passes and says NOT PINNED")
    func unpinned() throws {
        let (quote, _) = try Self.simulator()
        guard case .failsToMeetPolicy(let reason) = Self.verdict(nil, quote: quote) else { Issue.record("no pin met the policy"); return }
        #expect(reason.hasPrefix("OS not pinned"))
        guard case .meetsPolicy(let detail) = Self.verdict(.unsafeUnpinnedAccepted, quote: quote) else { Issue.record("the opt-out failed"); return }
        #expect(detail.hasPrefix("NOT PINNED"))
    }

    @Test("The committed dstack-0.5.5 pin reads, and fails naming every value it could not state rather than pinning nothing silently")
    func committedRelease() throws {
        let file = Fixture.repository.appendingPathComponent("dstack/os/dstack-0.5.5.json")
        let pin = try PinnedOS.decode(Array(try Data(contentsOf: file)))
        #expect(pin.release == "dstack-0.5.5")
        let (quote, _) = try Self.simulator()
        guard case .failsToMeetPolicy(let reason) = Self.verdict(.pinned(pin), quote: quote) else { Issue.record("an empty pin met the policy"); return }
        for register in ["MRTD", "RTMR0", "RTMR1", "RTMR2"] {
            #expect(reason.contains("\(register) is not pinned for dstack-0.5.5"), "\(reason)")
        }
        for value in [pin.mrtd, pin.rtmr0, pin.rtmr1, pin.rtmr2] where value.hex == nil {
            #expect(value.source.contains("NOT OBTAINABLE HERE"))
        }
    }

    @Test("A pin file with a duplicate key is refused")
    func duplicateKeyPin() throws {
        let text = #"{"release":"a","release":"b","mrtd":{"hex":null,"source":"x"},"rtmr0":{"hex":null,"source":"x"},"rtmr1":{"hex":null,"source":"x"},"rtmr2":{"hex":null,"source":"x"}}"#
        #expect { try PinnedOS.decode(Array(text.utf8)) } throws: { "\($0)".contains("duplicate key \"release\"") }
    }

    static func appCompose(_ compose: String) -> [UInt8] { AppCompose(name: "a", dockerComposeFile: compose, allowedEnvs: []).encoded }

    @Test("The release is read from the compose file inside the app compose: one top-level line, a plain name")
    func releaseFromCompose() throws {
        #expect(try OSPinSelection.release(inAppCompose: Self.appCompose("services: {}\nx-oauth3-dstack-os: dstack-0.5.5  # the OS\n")) == "dstack-0.5.5")
        for (compose, problem) in [
            ("services: {}\n", "names no OS release"),
            ("services:\n  x-oauth3-dstack-os: nested\n", "names no OS release"),
            ("x-oauth3-dstack-os: a\nx-oauth3-dstack-os: b\n", "states x-oauth3-dstack-os 2 times"),
            ("x-oauth3-dstack-os: ../../etc/passwd\n", "is '../../etc/passwd', not a release name"),
            ("x-oauth3-dstack-os: ..\n", "not a release name"),
            ("x-oauth3-dstack-os:\n", "not a release name"),
        ] {
            #expect { try OSPinSelection.release(inAppCompose: Self.appCompose(compose)) } throws: { "\($0)".contains(problem) }
        }
        #expect { try OSPinSelection.release(inAppCompose: Array("{\"name\":\"a\"}".utf8)) } throws: { "\($0)".contains("no docker_compose_file") }
        #expect { try OSPinSelection.release(inAppCompose: Array("{\"docker_compose_file\":\"a\",\"docker_compose_file\":\"b\"}".utf8)) } throws: {
            "\($0)".contains("duplicate key")
        }
    }

    @Test("A pin directory is read whole: a pin filed under another release's name is refused")
    func pinDirectory() throws {
        let directory = Fixture.workRoot()
        let pin = Fixture.repository.appendingPathComponent("dstack/os/development.json").path
        try FileManager.default.copyItem(atPath: pin, toPath: directory + "/development.json")
        let selection = try OSPinSelection(appCompose: Self.appCompose("x-oauth3-dstack-os: development\n"), directory: directory)
        #expect(selection.pins.keys.sorted() == ["development"] && selection.release == .named("development"))
        try FileManager.default.copyItem(atPath: pin, toPath: directory + "/dstack-0.5.5.json")
        #expect { try OSPinSelection(appCompose: [], directory: directory) } throws: { "\($0)".contains("is for release development; it must be named development.json") }
        #expect { try OSPinSelection(appCompose: [], directory: directory + "/absent") } throws: { "\($0)".contains("cannot list the OS pin directory") }
    }
}
