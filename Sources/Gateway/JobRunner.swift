import OAuth3Wire
import Sandbox

/// What the gateway needs from whatever runs skills: a policy to admit jobs under, a description of the
/// isolation for `/healthz` and `/readyz`, and a way to run one job to its result.
///
/// The daemon's runner is ``Sandbox/SkillRunner`` (the jail and Deno). The seam exists so the routes, the
/// scheduler, the store and attestation can be tested together with `app.test(.router)` and a runner
/// that answers at once, without root, Deno or the jail; the live-daemon suites keep the real path.
public protocol JobRunner: Sendable {
    /// The policy jobs are admitted under (manifest limits at submission) and whose hash `/healthz` shows.
    var policy: PolicySet { get }
    /// What isolation jobs get, as `/healthz` and `/readyz` report it.
    var isolation: RunnerIsolation { get }
    /// Jails prepared ahead of jobs, which the daemon refills and retires; `nil` when there are none.
    var pool: JailPool? { get }
    /// Warm Deno caches the runner keeps, whose writers the daemon waits for at shutdown; `nil` when none.
    var denoCache: DenoCache? { get }
    /// The wall-clock limit `job` will run under, shown on the approval page before it runs.
    func timeoutSeconds(for job: SkillJob) -> Int
    /// Runs `job` to its (redacted) result, with where the time went. Every run that started ends in a
    /// result, failures included (a timeout is a result, not an error).
    /// - Throws: only when the job could not be started at all; the job then fails as `sandbox_error`.
    func runTimed(_ job: SkillJob) async throws -> (result: RunResult, timings: RunTimings)
}

/// The isolation a runner offers, found once at start.
public struct RunnerIsolation: Sendable, Hashable {
    /// Deno's version, as `deno --version` printed it.
    public var denoVersion: String
    /// Whether jobs get a user namespace.
    public var userNamespace: Bool
    /// `v1`, `v2`, or `none`.
    public var cgroups: String

    public init(denoVersion: String, userNamespace: Bool, cgroups: String) {
        self.denoVersion = denoVersion
        self.userNamespace = userNamespace
        self.cgroups = cgroups
    }
}

extension SkillRunner: JobRunner {
    public var policy: PolicySet { configuration.policy }

    public var isolation: RunnerIsolation {
        RunnerIsolation(denoVersion: host.denoVersion, userNamespace: host.userNamespace, cgroups: host.cgroups?.version.rawValue ?? "none")
    }
}
