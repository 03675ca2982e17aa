import Attestation
import OAuth3Wire
import Sandbox
import Store

/// Runs the readiness checks over the daemon's parts.
struct Readiness: Sendable {
    let store: any EnclaveStore
    let runner: any JobRunner
    let scheduler: JobScheduler
    let agent: GuestAgentProbe

    /// - Parameter ttl: how long a guest-agent answer (or failure) is reused.
    init(store: any EnclaveStore, runner: any JobRunner, scheduler: JobScheduler, agent: any GuestAgent, ttl: Duration) {
        self.store = store
        self.runner = runner
        self.scheduler = scheduler
        self.agent = GuestAgentProbe(agent: agent, ttl: ttl)
    }

    func report() async -> ReadinessReport {
        var checks: [ReadinessReport.Check] = []
        do {
            try await store.ping()
            checks.append(.init(name: "database", ok: true, detail: "open"))
        } catch {
            checks.append(.init(name: "database", ok: false, detail: "\(error)"))
        }
        // The daemon's runner exists only once SandboxHost.inspect succeeded: it refuses to start otherwise.
        let isolation = runner.isolation
        checks.append(.init(
            name: "sandbox", ok: true,
            detail: "inspected at start: deno \(isolation.denoVersion), user namespace \(isolation.userNamespace), cgroups \(isolation.cgroups)"))
        let (answered, detail) = await agent.check()
        checks.append(.init(name: "guest_agent", ok: answered, detail: detail))
        let accepting = await scheduler.isAccepting
        checks.append(.init(name: "scheduler", ok: accepting, detail: accepting ? "accepting jobs" : "not running, or shutting down"))
        return ReadinessReport(checks: checks)
    }
}

/// Asks the guest agent for `/Info`, remembering the answer for a while so probes stay cheap.
actor GuestAgentProbe {
    private let agent: any GuestAgent
    private let ttl: Duration
    private var last: (at: ContinuousClock.Instant, ok: Bool, detail: String)?

    init(agent: any GuestAgent, ttl: Duration) {
        self.agent = agent
        self.ttl = ttl
    }

    func check() async -> (ok: Bool, detail: String) {
        if let last, ContinuousClock.now - last.at < ttl { return (last.ok, last.detail) }
        let result: (Bool, String)
        do {
            let info = try await agent.info()
            result = (true, "\(agent.name) answers (app id \(info.appID))")
        } catch {
            result = (false, "\(agent.name): \(error)")
        }
        last = (ContinuousClock.now, result.0, result.1)
        return result
    }
}
