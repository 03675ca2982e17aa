import Crypto
import Jail
import SkillManifest

/// Runs skills: one private directory, one jail, one Deno process per job; a classified, redacted result.
public struct SkillRunner: Sendable {
    public let configuration: SandboxConfiguration
    /// The version of ``SandboxConfiguration/denoPath``, read once.
    public let denoVersion: String

    /// Prepares a runner, reading Deno's version once.
    public init(configuration: SandboxConfiguration) async throws(SandboxError) {
        self.configuration = configuration
        self.denoVersion = try await DenoVersion.read(denoPath: configuration.denoPath)
    }

    /// A runner for a Deno whose version is already known.
    init(configuration: SandboxConfiguration, denoVersion: String) {
        self.configuration = configuration
        self.denoVersion = denoVersion
    }

    /// The wall-clock limit for `job`: its override or its header's, never above the policy maximum.
    public func timeoutSeconds(for job: SkillJob) -> Int {
        min(job.timeoutSeconds ?? job.manifest.timeoutSeconds, configuration.policy.manifest.maxTimeoutSeconds)
    }

    /// The Deno command and the jail configuration for `job` in `directory`, without running anything.
    public func plan(_ job: SkillJob, in directory: JobDirectory.Paths) -> (deno: DenoCommand, jail: JailConfiguration) {
        let deno = DenoCommand(
            manifest: job.manifest, secrets: job.secrets, limits: configuration.policy.limits,
            refusedRanges: configuration.policy.refusedRanges, directory: directory)
        let jail = JailConfiguration(
            program: configuration.denoPath, arguments: deno.arguments, keepEnvironment: deno.environment.map(\.name),
            workingDirectory: directory.work, reportPath: directory.jailReport)
        return (deno, jail)
    }

    /// Runs `job` to completion. Every run ends in a result; only failing to start the sandbox throws.
    public func run(_ job: SkillJob) async throws(SandboxError) -> RunResult {
        let directory = try JobDirectory.create(under: configuration.workRoot)
        defer { directory.remove() }
        let (deno, jail) = plan(job, in: directory.paths)
        let timeout = timeoutSeconds(for: job)
        let limits = configuration.policy.limits

        let observation = try await ProcessSupervisor.run(
            executable: configuration.jailPath, arguments: jail.encoded(), environment: deno.environment,
            input: job.source, stdoutCap: limits.stdoutMaxBytes, stderrCap: limits.stderrMaxBytes,
            timeout: .seconds(timeout))
        let jailFailure = directory.jailFailureReport()
        let outcome = OutcomeClassifier.classify(observation, jailFailure: jailFailure)

        let redactor = Redactor(secrets: job.secrets)
        let stdout = redactor.redact(observation.stdout.bytes, truncated: observation.stdout.overflowed)
        let stderr = redactor.redact(observation.stderr.bytes, truncated: observation.stderr.overflowed)
        var exitCode: Int32?
        var signal: String?
        switch observation.termination {
        case .exited(let code): exitCode = code
        case .signaled(let number): signal = signalName(number)
        }
        let (seconds, attoseconds) = observation.duration.components
        return RunResult(
            success: outcome.isSuccess, status: outcome.isSuccess ? "completed" : "failed", outcome: outcome,
            exitCode: exitCode, signal: signal,
            stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self),
            stdoutTruncated: observation.stdout.overflowed, stderrTruncated: observation.stderr.overflowed,
            duration: Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000),
            skill: job.manifest.skill, codeSHA256: SHA256.hash(data: job.source).hex,
            granted: .init(net: job.manifest.network.map(\.description), env: deno.secretNames),
            timeoutSeconds: timeout, denoVersion: denoVersion, policySHA256: configuration.policy.sha256,
            warnings: job.warnings, error: jailFailure.map { JailFailure(reportLine: $0)?.description ?? $0 })
    }
}
