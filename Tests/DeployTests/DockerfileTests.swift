import Foundation
import Gateway
import TestSupport
import Testing

/// dstack/Dockerfile: well-formed, pinned, and consistent with the compose file and the daemon.
@Suite("The image's Dockerfile")
struct DockerfileTests {
    static func problems(dockerfile: String? = nil, requirements: String? = nil, setup: String? = nil) throws -> [String] {
        DeploymentCheck.dockerfileProblems(
            try dockerfile ?? DeploymentCheck.read("Dockerfile"), compose: try DeploymentCheck.read("docker-compose.yml"),
            denoRequirements: try requirements ?? DeploymentCheck.read("deno-requirements.txt"),
            setupScript: try setup ?? String(contentsOf: Fixture.repository.appendingPathComponent("scripts/setup.sh"), encoding: .utf8))
    }

    @Test("It keeps every rule: pinned stages, Deno 2.9.8 by hash, policies copied, daemon variables only, USER as the compose file runs it")
    func keepsTheRules() throws {
        #expect(try Self.problems() == [])
    }

    @Test("Each broken copy is refused for its own reason", arguments: [
        ("FROM debian:bookworm-slim@sha256:0000000000000000000000000000000000000000000000000000000000000000", "FROM debian:bookworm-slim", "is not pinned"),
        ("    OAUTH3_PORT=8787", "    OAUTH3_PORT=8787 \\\n    OAUTH3_VERBOSE=1", "ENV OAUTH3_VERBOSE is not a variable the daemon reads"),
        ("COPY policies /usr/share/oauth3-enclave/policies\n", "", "policies/ is not copied"),
        ("USER root", "USER nobody", "disagree"),
        ("USER root\n", "", "does not state its USER"),
        ("EXPOSE 8787", "EXPOSE 8080", "EXPOSE is not OAUTH3_PORT"),
        ("--require-hashes ", "", "pip --require-hashes"),
        ("CMD [\"oauth3-enclave\", \"serve\"]", "Cmd [\"oauth3-enclave\", \"serve\"]", "'Cmd' is not an instruction"),
        ("CMD [\"oauth3-enclave\", \"serve\"]\n", "CMD [\"oauth3-enclave\", \"serve\"] \\\n", "ends inside a continued instruction"),
        ("SETPCAP", "PCAP", "why the container holds SETPCAP"),
        ("libseccomp2 libcap2", "libcap2", "does not install libseccomp2"),
    ])
    func refusesBrokenCopies(_ change: (String, String, String)) throws {
        let original = try DeploymentCheck.read("Dockerfile")
        #expect(original.contains(change.0), "the fixture no longer contains \(change.0)")
        let problems = try Self.problems(dockerfile: original.replacingOccurrences(of: change.0, with: change.1))
        #expect(problems.contains { $0.contains(change.2) }, "\(problems)")
    }

    @Test("Deno's pin is one version: the image's wheel and scripts/setup.sh agree, and a different one is refused")
    func denoPin() throws {
        let requirements = try DeploymentCheck.read("deno-requirements.txt")
        #expect(try Self.problems(requirements: requirements.replacingOccurrences(of: "deno==2.9.8", with: "deno==2.9.9")).contains { $0.contains("2.9.9") })
        #expect(try Self.problems(requirements: requirements.replacingOccurrences(of: " --hash=sha256:", with: " #")).contains { $0.contains("does not pin") })
        #expect(try Self.problems(setup: "DENO_VERSION=2.9.7\n").contains { $0.contains("scripts/setup.sh") })
    }

    @Test("The daemon spells OAUTH3_ names only in ServeEnvironment, so the compose check cannot miss a variable")
    func oneSourceOfNames() throws {
        var offenders: [String] = []
        var scanned = 0
        for directory in ["Sources/oauth3-enclave", "Sources/Gateway"] {
            let root = Fixture.repository.appendingPathComponent(directory)
            for name in try FileManager.default.subpathsOfDirectory(atPath: root.path) where name.hasSuffix(".swift") && name != "ServeEnvironment.swift" {
                scanned += 1
                let text = try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8)
                for match in text.matches(of: /"OAUTH3_[A-Z0-9_]*"/) { offenders.append("\(directory)/\(name): \(match.0)") }
            }
        }
        #expect(scanned > 20, "only \(scanned) files scanned: the check would pass on nothing")
        #expect(offenders == [], "read these through ServeEnvironment")
    }
}
