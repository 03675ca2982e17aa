import Crypto
import Egress
import Foundation
import JailPlan
import OAuth3Wire
import SkillManifest

/// Runs skills: one private root, one cgroup, one jail, one Deno process per job; a classified,
/// redacted result.
public struct SkillRunner: Sendable {
    public let configuration: SandboxConfiguration
    /// What the machine offers, found once at start.
    public let host: SandboxHost
    /// How egress proxies resolve names: the policy's name servers, else the system's.
    public let resolver: any NameResolver
    /// Jails prepared ahead of jobs; `nil` when ``SandboxConfiguration/pool`` has size 0.
    public let pool: JailPool?
    /// Warm Deno caches for code that has run before; `nil` without ``SandboxConfiguration/denoCacheDirectory``.
    public let denoCache: DenoCache?

    /// Prepares a runner: inspects the machine once (Deno, namespaces, cgroups). A pool, if configured,
    /// starts empty: ``JailPool/fill()`` prepares its jails, and the first job fills it too.
    /// - Throws: ``SandboxError`` when a required isolation layer is missing.
    /// - Parameter hostCache: a directory to remember the inspection in for this boot (one-shot runs);
    ///   `nil` inspects afresh.
    public init(configuration: SandboxConfiguration, hostCache: String? = nil) async throws(SandboxError) {
        let host = if let hostCache {
            try await SandboxHost.inspect(configuration, cachingIn: hostCache)
        } else {
            try await SandboxHost.inspect(configuration)
        }
        try self.init(configuration: configuration, host: host)
    }

    /// A runner for a machine already inspected.
    init(configuration: SandboxConfiguration, host: SandboxHost) throws(SandboxError) {
        self.configuration = configuration
        self.host = host
        try Self.checkSocketPathFits(configuration.workRoot)
        self.resolver = try Self.resolver(for: configuration)
        let blueprint = JailBlueprint(configuration: configuration, host: host)
        self.pool = configuration.pool.size > 0 ? JailPool(configuration: configuration.pool, blueprint: blueprint) : nil
        self.denoCache = try configuration.denoCacheDirectory.map { directory throws(SandboxError) in
            try DenoCache(directory: directory, maximumBytes: configuration.denoCacheMaximumBytes, writeAfterRuns: configuration.denoCacheWriteAfterRuns)
        }
    }

    /// The part of every job's jail that does not depend on the job.
    var blueprint: JailBlueprint { JailBlueprint(configuration: configuration, host: host) }

    /// A jail for the next job: a prepared one from the pool (booted for `shape` if one waits), else one
    /// started now. A pooled jail that failed while it waited is discarded, and the job gets a fresh one.
    func preparedJail(shape: BootShape?) async throws(SandboxError) -> (jail: PreparedJail, pooled: Bool) {
        if let pool, let jail = await pool.take(shape: shape) {
            if await jail.awaitReadiness(), jail.reserve() { return (jail, true) }
            await pool.discard(jail)
        }
        return (try PreparedJail.start(blueprint), false)
    }

    /// Replaces the pool's waiting jails by jails booted for `job`'s shape, as if it had repeated (benchmarks).
    public func prepareBootedJails(for job: SkillJob) async {
        guard let pool else { return }
        await pool.prepare(booting: blueprint.bootShape(for: job, deno: blueprint.deno(for: job)))
    }

    /// A unix socket's path holds at most 107 bytes; say so at start rather than at the first networked job.
    private static func checkSocketPathFits(_ workRoot: String) throws(SandboxError) {
        let socket = JobDirectory.Paths(root: workRoot + "/job-0123456789abcdef").egressSocket
        guard socket.utf8.count <= 107 else {
            throw .workDirectory("the work root \(workRoot) is too long for the egress proxy's socket path (\(socket.utf8.count) of at most 107 bytes)")
        }
    }

    private static func resolver(for configuration: SandboxConfiguration) throws(SandboxError) -> any NameResolver {
        if let resolver = configuration.egressResolver { return resolver }
        let configured = configuration.policy.egress.nameservers
        do {
            return try DNSResolver(nameservers: configured.isEmpty ? DNSResolver.systemNameservers() : configured)
        } catch {
            throw .egress("name servers: \(error)")
        }
    }

    /// Deno's version.
    public var denoVersion: String { host.denoVersion }

    /// The wall-clock limit for `job`: its override or its header's, never above the policy maximum.
    public func timeoutSeconds(for job: SkillJob) -> Int {
        min(job.timeoutSeconds ?? job.manifest.timeoutSeconds, configuration.policy.manifest.maxTimeoutSeconds)
    }

    /// The Deno command and the jail configuration for `job`, without running anything: the prepared
    /// jail's configuration with the job's claim applied, as one `oauth3-jail` command line.
    public func plan(_ job: SkillJob, in directory: JobDirectory.Paths, cgroups: [String] = []) -> (deno: DenoCommand, jail: JailConfiguration) {
        let deno = blueprint.deno(for: job)
        var jail = blueprint.jail(in: directory, cgroups: cgroups)
        jail.prepared = false
        jail.apply(blueprint.claim(for: job, deno: deno))
        return (deno, jail)
    }

    /// Runs `job` to completion in a prepared jail (from the pool, else started now). Every run ends in a
    /// result; only failing to start the sandbox throws.
    public func run(_ job: SkillJob) async throws(SandboxError) -> RunResult {
        try await runTimed(job).result
    }

    /// ``run(_:)``, with where the time went.
    public func runTimed(_ job: SkillJob) async throws(SandboxError) -> (result: RunResult, timings: RunTimings) {
        // The jail this job takes is replaced once it has ended (``JailPool/take(shape:)`` says why).
        defer { if let pool { Task { await pool.fill() } } }
        let clock = ContinuousClock()
        var timings = RunTimings()
        var mark = clock.now
        func lap() -> Duration {
            let now = clock.now
            defer { mark = now }
            return mark.duration(to: now)
        }
        let deno = blueprint.deno(for: job)
        let timeout = timeoutSeconds(for: job)
        let cacheKey = denoCacheKey(for: job, deno: deno)
        // A booted jail, unless the code is large and has a warm cache, which a booted Deno could not use.
        let warm = cacheKey.map { key in denoCache?.contains(key) ?? false } ?? false
        let shape = warm && job.source.count > BootShape.warmCacheCodeBytes ? nil : blueprint.bootShape(for: job, deno: deno)
        let (jail, pooled) = try await preparedJail(shape: shape)
        timings.pooled = pooled
        timings.booted = jail.shape != nil
        let command = jail.shape != nil ? deno.booted : deno
        // The claim and Deno's environment go ahead of the script on the jail's stdin, never into the jail's own.
        let input: [UInt8]
        do throws(JailFailure) {
            input = try blueprint.claim(for: job, deno: command).encoded() + EnvironmentBlock.encode(command.environment) + job.source
        } catch {
            await jail.retire()
            await jail.dispose()
            throw .spawn("Deno's arguments or environment cannot be handed to the jail: \(error.detail)")
        }
        let directory = jail.directory
        // A booted Deno has its caches open already: a seed would come too late.
        if let cacheKey, let denoCache, !timings.booted { timings.denoCache = denoCache.seed(cacheKey, into: directory.paths.denoCacheSeed) }
        timings.jail = lap()
        let cgroup = jail.cgroup
        let limits = configuration.policy.limits
        let supervise: @Sendable () async -> Result<ProcessObservation, SandboxError> = {
            await jail.run(input: input, timeout: .seconds(timeout))
        }
        let supervised: Result<ProcessObservation, SandboxError>
        var transcript: NetworkTranscript?
        if job.manifest.network.isEmpty {
            supervised = await supervise()
        } else {
            do {
                let proxy = EgressProxy(
                    declared: job.manifest.network, policy: configuration.policy.egress, resolver: resolver,
                    interception: try interception(for: job, in: directory.paths))
                (supervised, transcript) = try await proxy.serve(
                    at: directory.paths.egressSocket, owner: (limits.uid, limits.gid), while: supervise)
            } catch {
                await jail.retire()
                supervised = .failure(.egress("the egress proxy could not start: \(error)"))
            }
        }
        timings.jobRun = lap()
        let observation: ProcessObservation
        switch supervised {
        case .success(let value): observation = value
        case .failure(let error):
            await jail.dispose()
            throw error
        }
        let usage = cgroup?.usage()
        let jailFailure = directory.jailFailureReport()
        // Whatever the job left behind dies with its cgroup (the pid namespace already took the rest).
        await jail.dispose()
        timings.cleanup = lap()
        let outcome = OutcomeClassifier.classify(observation, usage: usage, jailFailure: jailFailure)

        // Bound values never entered the job, but an upstream may echo one back: redact them as well.
        var values = job.secrets
        for secret in job.boundSecrets {
            if case .success(let name) = SecretName.validate(secret.name) { values[name] = secret.value }
        }
        let redactor = Redactor(secrets: values)
        let stdout = redactor.redact(observation.stdout.bytes, truncated: observation.stdout.overflowed)
        let stderr = redactor.redact(observation.stderr.bytes, truncated: observation.stderr.overflowed)
        // Host names in the transcript are the job's own strings, lowercased by the proxy: redact the
        // secrets' lowercase forms there too, or a secret in a host name would reach the result.
        let network = transcript.map { transcript in
            let lowercase = Redactor(secrets: values.mapValues { $0.lowercased() })
            return transcript.redacted { String(decoding: lowercase.redact(redactor.redact(Array($0.utf8))), as: UTF8.self) }
        }
        var exitCode: Int32?
        var signal: String?
        switch observation.termination {
        case .exited(let code): exitCode = code
        case .signaled(let number): signal = Signal.name(number)
        }
        let (seconds, attoseconds) = observation.duration.components
        let result = RunResult(
            success: outcome.isSuccess, status: outcome.isSuccess ? "completed" : "failed", outcome: outcome,
            exitCode: exitCode, signal: signal,
            stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self),
            stdoutTruncated: observation.stdout.overflowed, stderrTruncated: observation.stderr.overflowed,
            duration: Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000),
            skill: job.manifest.skill, codeSHA256: SHA256.hash(data: job.source).hex,
            granted: .init(net: job.manifest.network.map(\.description), env: deno.secretNames),
            timeoutSeconds: timeout, denoVersion: denoVersion, policySHA256: configuration.policy.sha256,
            warnings: job.warnings, error: jailFailure.map { JailFailure(reportLine: $0)?.description ?? $0 },
            memPeakBytes: usage?.memoryPeakBytes, cpuUserMs: usage?.cpuUserMicroseconds.map { $0 / 1000 },
            cpuSysMs: usage?.cpuSystemMicroseconds.map { $0 / 1000 },
            sandbox: .init(
                userNamespace: host.userNamespace, cgroups: host.cgroups?.version.rawValue ?? "none",
                network: job.manifest.network.isEmpty ? "loopback" : "proxy", seccomp: true),
            network: network)
        timings.classify = lap()
        // A cache is written for code that runs unbooted, or that is large enough to leave booted jails for it.
        if let cacheKey, timings.denoCache == false || (timings.booted && job.source.count > BootShape.warmCacheCodeBytes) {
            startDenoCacheWriter(for: job, key: cacheKey)
        }
        return (result, timings)
    }
}

extension SkillRunner {
    /// For a job holding bound secrets and hosts: its own CA (the certificate written where the jail binds
    /// it, readable by the job's user; the key stays here) and the proxy's substitution; `nil` otherwise.
    func interception(for job: SkillJob, in directory: JobDirectory.Paths) throws -> EgressInterception? {
        guard !job.boundSecrets.isEmpty, !job.manifest.network.isEmpty else { return nil }
        let authority = try InterceptionAuthority(hosts: job.manifest.network)
        guard FileManager.default.createFile(atPath: directory.interceptionCertificate, contents: Data(authority.certificatePEM.utf8)),
            chmod(directory.interceptionCertificate, 0o644) == 0
        else {
            throw SandboxError.egress("cannot write the job's CA certificate to \(directory.interceptionCertificate)")
        }
        return try EgressInterception(
            secrets: job.boundSecrets, authority: authority, extraTrustRootsPEM: configuration.egressExtraTrustRoots)
    }

    /// Tears the cgroup down outside the job's task: a cancelled task (shutdown) must still wait until
    /// every process of the job is gone and the cgroup removed.
    static func destroy(_ cgroup: JobCgroup?) async {
        guard let cgroup else { return }
        await Task.detached { await cgroup.destroy() }.value
    }
}
