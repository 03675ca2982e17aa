import Egress
import Foundation
import Jail
import OAuth3Wire
import Sandbox
import SkillManifest
import Subprocess
import SystemPackage

/// Paths of the real programs the tests run (Deno from `make setup`, the binaries built with the tests)
/// and helpers to run skills through the real sandbox.
public enum Fixture {
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    public static let buildDirectory = URL(fileURLWithPath: try! FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        .deletingLastPathComponent()
    public static let deno = ProcessInfo.processInfo.environment["OAUTH3_DENO"]
        ?? repository.appendingPathComponent(".tools/deno/bin/deno").path
    public static let jail = buildDirectory.appendingPathComponent("oauth3-jail").path
    public static let enclave = buildDirectory.appendingPathComponent("oauth3-enclave").path
    public static let probe = buildDirectory.appendingPathComponent("jail-probe").path
    public static let oauth3 = buildDirectory.appendingPathComponent("oauth3").path
    public static let policies = repository.appendingPathComponent("policies").path

    /// A fresh, empty work root for one test.
    public static func workRoot() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("oauth3-test-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A sandbox configuration over the repository's policies, with `adjust` applied.
    public static func configuration(
        workRoot: String = workRoot(), policies: String = policies, adjust: (inout SandboxConfiguration) -> Void = { _ in }
    ) throws -> SandboxConfiguration {
        precondition(FileManager.default.isExecutableFile(atPath: deno), "Deno missing at \(deno): run `make setup`")
        var configuration = SandboxConfiguration(
            denoPath: deno, jailPath: jail, workRoot: workRoot, policy: try PolicySet.load(from: policies))
        // The jail tested is the jail shipped: a kernel that refuses the user namespace fails the tests
        // at the runner's start instead of letting them pass on a weaker sandbox (cgroups are required
        // unless a test says otherwise, too).
        configuration.userNamespace = .required
        adjust(&configuration)
        return configuration
    }

    /// A runner over the repository's policies, with `adjust` applied to its limits.
    public static func runner(workRoot: String = workRoot(), adjust: (inout SandboxLimits) -> Void = { _ in }) async throws -> SkillRunner {
        try await SkillRunner(configuration: configuration(workRoot: workRoot) { adjust(&$0.policy.limits) })
    }

    /// Parses `source` and runs it with `secrets`.
    ///
    /// Every result must show the full set of layers (user namespace, cgroups, seccomp, the network the
    /// manifest asks for): an escape that "failed" in a weaker jail proves nothing about the one shipped,
    /// so a weaker one throws ``WeakerSandbox`` unless the test built such a runner on purpose and says so.
    public static func run(
        _ source: String, secrets: [String: String] = [:], boundSecrets: [BoundSecret] = [], timeout: Int? = nil, runner: SkillRunner? = nil,
        unsafeAcceptWeakerSandbox: Bool = false
    ) async throws -> RunResult {
        let job = try job(source, secrets: secrets, boundSecrets: boundSecrets, timeout: timeout)
        let manifest = job.manifest
        let runner = if let runner { runner } else { try await Fixture.runner() }
        let result = try await runner.run(job)
        let sandbox = result.sandbox
        let network = manifest.network.isEmpty ? "loopback" : "proxy"
        let cgroups = expectedCgroups.map { sandbox.cgroups == $0 } ?? (sandbox.cgroups != "none")
        if !unsafeAcceptWeakerSandbox && !(sandbox.userNamespace && sandbox.seccomp && cgroups && sandbox.network == network) {
            throw WeakerSandbox(isolation: sandbox)
        }
        return result
    }

    /// The job ``run(_:secrets:boundSecrets:timeout:runner:unsafeAcceptWeakerSandbox:)`` runs for `source`.
    public static func job(_ source: String, secrets: [String: String] = [:], boundSecrets: [BoundSecret] = [], timeout: Int? = nil) throws -> SkillJob {
        let manifest = try SkillManifest.parse(source)
        let grant = SecretGrant(manifest: manifest, provided: secrets)
        return SkillJob(
            source: Array(source.utf8), manifest: manifest, secrets: grant.granted, timeoutSeconds: timeout, warnings: grant.warnings,
            boundSecrets: boundSecrets)
    }

    /// The cgroup version every job must report (`OAUTH3_TEST_CGROUPS`, `v1` or `v2`), when a test leg
    /// asks for one: the cgroup v2 VM of `make test-cgroup2` sets `v2`, so a job that ran on any other
    /// hierarchy fails there instead of passing on the wrong one.
    public static let expectedCgroups = ProcessInfo.processInfo.environment["OAUTH3_TEST_CGROUPS"]

    /// A job ran with fewer layers than the daemon ships.
    public struct WeakerSandbox: Error, CustomStringConvertible {
        public let isolation: RunResult.Isolation
        public var description: String { "the job ran in a weaker jail than the one shipped: \(isolation)" }
    }

    /// Pids of live processes whose environment contains `marker` (the tests put one in a secret).
    public static func processes(withEnvironmentContaining marker: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            return data.range(of: Data(marker.utf8)) != nil
        }
    }

    /// Waits (briefly) until no live process has `marker` in its environment; returns those left.
    public static func processesLeft(withEnvironmentContaining marker: String, within seconds: Double = 2) async -> [Int32] {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var left = processes(withEnvironmentContaining: marker)
        while !left.isEmpty && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
            left = processes(withEnvironmentContaining: marker)
        }
        return left
    }

    /// Runs a program and returns (exit status or signal, whether it was a signal, stdout, stderr).
    /// Asynchronous all the way: a blocking wait here would starve the cooperative thread pool that the
    /// sandbox's own timers run on (2 threads on a 2-core machine).
    public static func execute(
        _ executable: String, _ arguments: [String], environment: [String: String] = ["PATH": "/usr/bin:/bin"], input: [UInt8] = []
    ) async throws -> (status: Int32, signaled: Bool, out: String, err: String) {
        let result = try await Subprocess.run(
            .path(FilePath(executable)), arguments: Arguments(arguments),
            environment: .custom(environment.map { Array("\($0.key)=\($0.value)\0".utf8) }),
            input: .array(input), output: .string(limit: 8 << 20), error: .string(limit: 8 << 20))
        let out = result.standardOutput, err = result.standardError
        switch result.terminationStatus {
        case .exited(let code): return (code, false, out, err)
        case .signaled(let signal): return (signal, true, out, err)
        }
    }

    /// Waits for a Foundation `Process` without blocking a thread.
    public static func waitForExit(_ process: Process) async {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
    }
}
