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

    @Test("egress.json: widenings, budgets and name servers load; a misspelt key, a widening into the floor and a bad name server are named")
    func egress() throws {
        let copy = try copyOfPolicies()
        let path = copy + "/egress.json"
        func write(_ text: String) throws { try text.write(toFile: path, atomically: true, encoding: .utf8) }
        try write(
            #"{"refused_ranges": ["10.0.0.0/8"], "widen": [{"hosts": ["api.internal", "*.corp.example"], "ranges": ["10.20.0.0/16"]}], "#
                + #""max_connections": 5, "max_concurrent_connections": 2, "max_bytes": 1000, "connect_timeout_ms": 50, "nameservers": ["10.0.0.2", "[::1]:5353"]}"#)
        let egress = try PolicySet.load(from: copy).egress
        #expect(egress.widenings == [.init(hosts: ["api.internal", "*.corp.example"], ranges: [IPRange("10.20.0.0/16")!])])
        #expect(egress.maxConnections == 5 && egress.maxConcurrentConnections == 2 && egress.maxBytes == 1000)
        #expect(egress.connectTimeoutMilliseconds == 50 && egress.nameservers == ["10.0.0.2", "[::1]:5353"])
        #expect(egress.refusal(of: IPAddress("10.20.0.9")!, for: "api.internal") == nil)

        try write(#"{"refused_ranges": [], "max_conections": 5}"#)
        #expect { try PolicySet.load(from: copy) } throws: { "\($0)".contains("unknown key 'max_conections'") }
        try write(#"{"refused_ranges": [], "widen": [{"hosts": ["api.internal"], "ranges": ["169.254.169.0/24"]}]}"#)
        #expect { try PolicySet.load(from: copy) } throws: { "\($0)".contains("widen[0].ranges: 169.254.169.0/24 overlaps 169.254.0.0/16, which is never reachable") }
        try write(#"{"refused_ranges": [], "widen": [{"hosts": ["bad host"], "ranges": ["10.0.0.0/8"]}]}"#)
        #expect { try PolicySet.load(from: copy) } throws: { "\($0)".contains("widen[0].hosts: 'bad host'") }
        try write(#"{"refused_ranges": [], "nameservers": ["dns.example"]}"#)
        #expect { try PolicySet.load(from: copy) } throws: { "\($0)".contains("nameservers") && "\($0)".contains("dns.example") }
        try write(#"{"refused_ranges": [], "max_bytes": 0}"#)
        #expect { try PolicySet.load(from: copy) } throws: { "\($0)".contains("max_bytes must be at least 1") }
    }
}
