import Jail
import Testing

@Suite("The job claim (what a prepared jail learns only when a job takes it)")
struct JobClaimTests {
    /// A claim decoded the way the waiting jail decodes it.
    func decoded(_ block: [UInt8]) throws -> JobClaim {
        let length = try JobClaim.bodyLength(header: block.prefix(JobClaim.headerSize))
        let body = Array(block.dropFirst(JobClaim.headerSize))
        #expect(body.count == length)
        return try JobClaim(body: body)
    }

    @Test("Arguments, rlimits and the egress bridge round-trip; arguments may hold spaces, '--' and flag-like words")
    func roundTrip() throws {
        let claim = JobClaim(
            arguments: ["run", "--deny-read", "--", "--rlimit", "a b", ""],
            resourceLimits: [.init(.nofile, soft: 64, hard: 64), .init(.cpu, soft: 30, hard: 31)],
            egressBridge: EgressBridge(port: 3128, socketPath: "/run/oauth3/egress.sock"))
        #expect(try decoded(claim.encoded()) == claim)
        #expect(try decoded(JobClaim(arguments: []).encoded()) == JobClaim(arguments: []))
    }

    @Test("The header is the magic and the body's length; the body is the jail's own flags as NUL-terminated words")
    func layout() throws {
        let claim = JobClaim(arguments: ["x"], resourceLimits: [.init(.core, soft: 0, hard: 0)])
        #expect(try claim.encoded() == Array("O3C1".utf8) + [0, 0, 0, 23] + Array("--rlimit\0core\00\00\0--\0x\0".utf8))
    }

    @Test("A claim cannot carry anything but the job's parts: no flag that weakens or moves a layer", arguments: [
        "--unsafe-no-seccomp", "--unsafe-share-host-network", "--unsafe-no-user-namespace", "--prepared",
    ])
    func refusesOtherFlags(flag: String) {
        let body = Array("\(flag)\0--\0run\0".utf8)
        #expect { try JobClaim(body: body) } throws: { ($0 as? JailFailure)?.stage == .claim }
    }

    @Test("A claim cannot move the root, bind a host file, change the user or the seccomp filter")
    func refusesOtherValues() {
        for words in [["--root", "/tmp"], ["--bind-ro", "/etc", "/etc"], ["--uid", "0"], ["--seccomp-default", "allow"], ["--cgroup", "/sys/fs/cgroup"]] {
            let body = Array((words + ["--", "run"]).map { $0 + "\0" }.joined().utf8)
            #expect(throws: JailFailure.self, "\(words)") { try JobClaim(body: body) }
        }
    }

    @Test("Malformed claims are refused at stage claim", arguments: [
        (Array("O3E1".utf8) + [0, 0, 0, 0], "does not start with a job claim"),
        (Array("O3C1".utf8) + [0x7F, 0, 0, 0], "is over"),
    ] as [([UInt8], String)])
    func refusesMalformedHeader(header: [UInt8], message: String) {
        #expect { try JobClaim.bodyLength(header: header) } throws: {
            guard let failure = $0 as? JailFailure else { return false }
            return failure.stage == .claim && failure.detail.contains(message)
        }
    }

    @Test("A configuration splits into what a prepared jail starts with and the claim, and back")
    func split() {
        var configuration = JailConfiguration(program: "/usr/bin/deno", arguments: ["run", "-"])
        configuration.filesystem.stagingDirectory = "/w/root"
        configuration.resourceLimits = [.init(.fsize, soft: 1, hard: 2)]
        configuration.egressBridge = EgressBridge(port: 1, socketPath: "/s")
        let prepared = configuration.withoutJob
        #expect(prepared.prepared && prepared.arguments.isEmpty && prepared.resourceLimits.isEmpty && prepared.egressBridge == nil)
        var rebuilt = prepared
        rebuilt.apply(configuration.claim)
        rebuilt.prepared = false
        #expect(rebuilt == configuration)
        #expect(prepared.encoded().contains("--prepared") && !prepared.encoded().contains("--rlimit"))
    }
}
