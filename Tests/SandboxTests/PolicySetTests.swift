import Egress
import Foundation
import Sandbox
import SkillManifest
import TestSupport
import Testing

@Suite("Policy files")
struct PolicySetTests {
    func copyOfPolicies() throws -> String {
        let copy = Fixture.workRoot() + "/policies"
        try FileManager.default.copyItem(atPath: Fixture.policies, toPath: copy)
        return copy
    }

    @Test("The repository's policies load, and their hash is stable and changes with any byte")
    func hash() throws {
        let copy = try copyOfPolicies()
        let original = try PolicySet.load(from: copy)
        #expect(original.sha256 == (try PolicySet.load(from: Fixture.policies)).sha256)
        #expect(original.limits.stdoutMaxBytes == 1 << 20 && original.manifest.maxTimeoutSeconds == 300)
        #expect(original.egress.refusedRanges.contains { $0.text == "169.254.0.0/16" })
        let limits = copy + "/limits.json"
        let text = try String(contentsOfFile: limits, encoding: .utf8)
        try text.replacingOccurrences(of: "\"heap_mib\": 256", with: "\"heap_mib\": 257").write(toFile: limits, atomically: true, encoding: .utf8)
        #expect(try PolicySet.load(from: copy).sha256 != original.sha256)
    }

    @Test("A missing field and a malformed range are named")
    func errors() throws {
        let copy = try copyOfPolicies()
        let limits = copy + "/limits.json"
        let text = try String(contentsOfFile: limits, encoding: .utf8)
        try text.replacingOccurrences(of: "\"heap_mib\"", with: "\"heap_mb\"").write(toFile: limits, atomically: true, encoding: .utf8)
        #expect { try PolicySet.load(from: copy) } throws: { "\($0)".contains("missing field sandbox.heap_mib") }
        try text.write(toFile: limits, atomically: true, encoding: .utf8)
        try #"{"refused_ranges": ["10.0.0.0/33"]}"#.write(toFile: copy + "/egress.json", atomically: true, encoding: .utf8)
        #expect { try PolicySet.load(from: copy) } throws: { "\($0)".contains("refused_ranges[0] '10.0.0.0/33'") }
    }
}
