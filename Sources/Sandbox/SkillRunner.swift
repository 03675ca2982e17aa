import Crypto
import Egress
import Foundation
import Jail
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

    /// Prepares a runner: inspects the machine once (Deno, namespaces, cgroups).
    /// - Throws: ``SandboxError`` when a required isolation layer is missing.
    public init(configuration: SandboxConfiguration) async throws(SandboxError) {
        self.configuration = configuration
        self.host = try await SandboxHost.inspect(configuration)
        try Self.checkSocketPathFits(configuration.workRoot)
        self.resolver = try Self.resolver(for: configuration)
    }

    /// A runner for a machine already inspected.
    init(configuration: SandboxConfiguration, host: SandboxHost) throws(SandboxError) {
        self.configuration = configuration
        self.host = host
        try Self.checkSocketPathFits(configuration.workRoot)
        self.resolver = try Self.resolver(for: configuration)
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

    /// The Deno command and the jail configuration for `job`, without running anything.
    public func plan(_ job: SkillJob, in directory: JobDirectory.Paths, cgroups: [String] = []) -> (deno: DenoCommand, jail: JailConfiguration) {
        let policy = configuration.policy
        let limits = policy.limits
        let usesEgress = !job.manifest.network.isEmpty
        let intercepts = usesEgress && !job.boundSecrets.isEmpty
        // A bound secret's variable holds its placeholder, never its value.
        var environmentSecrets = job.secrets
        for secret in job.boundSecrets {
            if case .success(let name) = SecretName.validate(secret.name) { environmentSecrets[name] = secret.placeholder }
        }
        let deno = DenoCommand(
            manifest: job.manifest, secrets: environmentSecrets, limits: limits, refusedRanges: policy.egress.refusedRanges,
            egressProxy: JailLayout.egressProxyURL, unsafeOpenPermissions: configuration.unsafeOpenDenoPermissions,
            environmentArguments: job.arguments, interceptionCertificate: intercepts ? JailLayout.interceptionCertificate : nil)

        var jail = JailConfiguration(
            program: JailLayout.deno, arguments: deno.arguments, workingDirectory: JailLayout.home, reportPath: directory.jailReport)
        jail.uid = limits.uid
        jail.gid = limits.gid
        jail.supervisor = getpid()
        var binds = [FilesystemPlan.Bind(source: configuration.denoPath, target: JailLayout.deno)]
        binds += host.denoLibraries.map { FilesystemPlan.Bind(source: $0, target: $0) }
        if usesEgress {
            // The proxy's socket, for the bridge; no resolver files: nothing inside resolves names.
            binds.append(FilesystemPlan.Bind(source: directory.egressSocket, target: JailLayout.egressSocket))
            if intercepts {
                binds.append(FilesystemPlan.Bind(source: directory.interceptionCertificate, target: JailLayout.interceptionCertificate))
            }
            jail.egressBridge = EgressBridge(port: JailLayout.egressPort, socketPath: JailLayout.egressSocket)
        }
        let tmpfsBytes = UInt64(limits.tmpfsMiB) << 20
        jail.filesystem = FilesystemPlan(
            stagingDirectory: directory.mountPoint, readOnlyFiles: binds,
            tmpfs: [JailLayout.home, JailLayout.tmp, JailLayout.denoDir].map { .init(target: $0, sizeBytes: tmpfsBytes) })
        jail.cgroups = cgroups
        let cpu = UInt64(limits.cpuSeconds)
        jail.resourceLimits = [
            .init(.nofile, soft: UInt64(limits.openFiles), hard: UInt64(limits.openFiles)),
            .init(.fsize, soft: UInt64(limits.fileSizeMiB) << 20, hard: UInt64(limits.fileSizeMiB) << 20),
            .init(.core, soft: 0, hard: 0),
            .init(.cpu, soft: cpu, hard: cpu + 1),  // SIGXCPU at the soft limit, SIGKILL a second later
        ]
        jail.seccomp = policy.seccomp
        jail.unsafeNoUserNamespace = !host.userNamespace
        return (deno, jail)
    }

    /// Runs `job` to completion. Every run ends in a result; only failing to start the sandbox throws.
    public func run(_ job: SkillJob) async throws(SandboxError) -> RunResult {
        let limits = configuration.policy.limits
        let directory = try JobDirectory.create(under: configuration.workRoot, owner: limits.uid, group: limits.gid)
        defer { directory.remove() }
        let cgroup = try host.cgroups.map { hierarchy throws(SandboxError) in
            try JobCgroup.create(
                in: hierarchy, id: directory.id, memoryBytes: UInt64(limits.memoryMiB) << 20, pidsMax: limits.pidsMax,
                cpuCores: limits.cpuCores)
        }
        let (deno, jail) = plan(job, in: directory.paths, cgroups: cgroup?.directories ?? [])
        let timeout = timeoutSeconds(for: job)
        // Deno's environment goes ahead of the script on the jail's stdin, never into the jail's own.
        let input: [UInt8]
        do throws(JailFailure) {
            input = try EnvironmentBlock.encode(deno.environment) + job.source
        } catch {
            await Self.destroy(cgroup)
            throw .spawn("Deno's environment cannot be handed to the jail: \(error.detail)")
        }

        let supervise: @Sendable () async -> Result<ProcessObservation, SandboxError> = { [configuration] in
            do throws(SandboxError) {
                return .success(
                    try await ProcessSupervisor.run(
                        executable: configuration.jailPath, arguments: jail.encoded(), input: input,
                        stdoutCap: limits.stdoutMaxBytes, stderrCap: limits.stderrMaxBytes,
                        timeout: .seconds(timeout)))
            } catch {
                return .failure(error)
            }
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
                supervised = .failure(.egress("the egress proxy could not start: \(error)"))
            }
        }
        let observation: ProcessObservation
        switch supervised {
        case .success(let value): observation = value
        case .failure(let error):
            await Self.destroy(cgroup)
            throw error
        }
        let usage = cgroup?.usage()
        // Whatever the job left behind dies with its cgroup (the pid namespace already took the rest).
        await Self.destroy(cgroup)
        let jailFailure = directory.jailFailureReport()
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
        return RunResult(
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
                userNamespace: !jail.unsafeNoUserNamespace, cgroups: host.cgroups?.version.rawValue ?? "none",
                network: jail.egressBridge == nil ? "loopback" : "proxy", seccomp: !jail.unsafeNoSeccomp),
            network: network)
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
