import Crypto
import Foundation
import Gateway
import OAuth3Wire
import Sandbox
import SkillManifest
import Synchronization

/// A runner that answers from a script instead of starting a jail and Deno: the other side of the
/// ``JobRunner`` seam, so routes, scheduler, store, vault and attestation run for real in seconds.
/// It records every job it was given, so a test can say what reached the runner (code, secrets,
/// arguments) and what never did.
struct ScriptedRunner: JobRunner {
    /// How the runner answers one job (the runner passes itself, for ``RunResult/scripted(for:runner:outcome:exitCode:stdout:stderr:error:)``):
    /// a result, or a throw (a sandbox that could not start).
    typealias Script = @Sendable (SkillJob, ScriptedRunner) async throws -> RunResult

    let policy: PolicySet
    let isolation = RunnerIsolation(denoVersion: "scripted 0.0.0", userNamespace: false, cgroups: "none")
    var pool: JailPool? { nil }
    var denoCache: DenoCache? { nil }
    let script: Script
    let received = Received()

    init(policy: PolicySet, script: @escaping Script) {
        self.policy = policy
        self.script = script
    }

    func timeoutSeconds(for job: SkillJob) -> Int {
        min(job.timeoutSeconds ?? job.manifest.timeoutSeconds, policy.manifest.maxTimeoutSeconds)
    }

    func runTimed(_ job: SkillJob) async throws -> (result: RunResult, timings: RunTimings) {
        received.append(job)
        return (try await script(job, self), RunTimings())
    }

    /// The jobs the runner was given, in order.
    final class Received: Sendable {
        private let jobs = Mutex<[SkillJob]>([])
        func append(_ job: SkillJob) { jobs.withLock { $0.append(job) } }
        var all: [SkillJob] { jobs.withLock { $0 } }
    }
}

extension RunResult {
    /// The result a runner reports for `job` that ended with `outcome`, filled in as the sandbox fills it
    /// (the code's hash, the grants, the limit), so the result document is a real one.
    static func scripted(
        for job: SkillJob, runner: ScriptedRunner, outcome: Outcome = .ok, exitCode: Int32? = 0, stdout: String = "", stderr: String = "",
        error: String? = nil
    ) -> RunResult {
        RunResult(
            success: outcome == .ok, status: outcome == .ok ? "completed" : "failed", outcome: outcome, exitCode: exitCode, signal: nil,
            stdout: stdout, stderr: stderr, stdoutTruncated: false, stderrTruncated: false, duration: 1, skill: job.manifest.skill,
            codeSHA256: SHA256.hash(data: job.source).map { String(format: "%02x", $0) }.joined(),
            granted: .init(net: [], env: job.manifest.secrets.map(\.rawValue)), timeoutSeconds: runner.timeoutSeconds(for: job),
            denoVersion: runner.isolation.denoVersion, policySHA256: runner.policy.sha256, warnings: job.warnings, error: error,
            memPeakBytes: nil, cpuUserMs: nil, cpuSysMs: nil,
            sandbox: .init(userNamespace: false, cgroups: "none", network: "loopback", seccomp: false), network: nil)
    }
}
