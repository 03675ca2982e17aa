#if canImport(Glibc)
import Glibc
#endif
import Egress
import JailPlan
import SkillManifest

/// The part of a job's jail that is the same for every job of a runner: the new root (Deno, its
/// libraries, the egress socket's directory, the tmpfs mounts), the user, the cgroup, the seccomp filter.
/// A prepared jail is started from it before any job exists (``PreparedJail``); the job brings only a
/// ``JobClaim`` (Deno's arguments, rlimits, egress bridge) and its environment.
struct JailBlueprint: Sendable {
    let configuration: SandboxConfiguration
    let host: SandboxHost

    /// Whether this is the Deno cache writer's jail (``DenoCache``): its `DENO_DIR` is a host directory bound
    /// read-write (the job's directory's ``JobDirectory/Paths/denoCacheOutput``) instead of a tmpfs, and it gets
    /// no seed. Only the daemon's cache writer starts one; a job's jail never has a writable host path.
    var writesDenoCache = false

    /// The job-independent jail configuration for a job directory and its cgroup directories.
    func jail(in directory: JobDirectory.Paths, cgroups: [String]) -> JailConfiguration {
        let limits = configuration.policy.limits
        var jail = JailConfiguration(program: JailLayout.deno, workingDirectory: JailLayout.home, reportPath: directory.jailReport)
        jail.uid = limits.uid
        jail.gid = limits.gid
        jail.supervisor = getpid()
        var binds = [FilesystemPlan.Bind(source: configuration.denoPath, target: JailLayout.deno)]
        binds += host.denoLibraries.map { FilesystemPlan.Bind(source: $0, target: $0) }
        // The proxy's socket directory, for the bridge (empty unless the job declared hosts); no resolver
        // files: nothing inside resolves names.
        let egress = FilesystemPlan.Bind(source: directory.egressDirectory, target: JailLayout.egressDirectory)
        let tmpfsBytes = UInt64(limits.tmpfsMiB) << 20
        let tmpfs = writesDenoCache ? [JailLayout.home, JailLayout.tmp] : [JailLayout.home, JailLayout.tmp, JailLayout.denoDir]
        jail.filesystem = FilesystemPlan(
            stagingDirectory: directory.mountPoint, readOnlyFiles: binds, readOnlyDirectories: [egress],
            tmpfs: tmpfs.map { .init(target: $0, sizeBytes: tmpfsBytes) })
        if writesDenoCache {
            jail.filesystem.writableDirectories = [.init(source: directory.denoCacheOutput, target: JailLayout.denoDir)]
        } else {
            jail.seed = DirectorySeed(source: JailLayout.denoCacheSeed, target: JailLayout.denoDir)
        }
        jail.cgroups = cgroups
        jail.seccomp = configuration.policy.seccomp
        jail.unsafeNoUserNamespace = !host.userNamespace
        jail.prepared = true
        return jail
    }

    /// A booted jail of `shape` (``JailConfiguration/booted``): the same jail, with Deno started before the
    /// claim with the shape's arguments, the policy's rlimits and the shape's settings.
    func bootedJail(in directory: JobDirectory.Paths, cgroups: [String], shape: BootShape) -> JailConfiguration {
        var jail = jail(in: directory, cgroups: cgroups)
        jail.booted = JailLayout.bootScript
        jail.arguments = shape.arguments
        jail.resourceLimits = resourceLimits
        return jail
    }

    /// The shape of the booted jail `job` could take; `nil` when it cannot take one: a job holding bound
    /// secrets has its own CA, which Deno reads from a file named in its settings, written for that job only.
    func bootShape(for job: SkillJob, deno: DenoCommand) -> BootShape? {
        guard job.boundSecrets.isEmpty || job.manifest.network.isEmpty else { return nil }
        return BootShape(deno)
    }

    /// The rlimits of every job's program: the policy's, the same for every job.
    var resourceLimits: [ResourceLimit] {
        let limits = configuration.policy.limits
        let cpu = UInt64(limits.cpuSeconds)
        return [
            .init(.nofile, soft: UInt64(limits.openFiles), hard: UInt64(limits.openFiles)),
            .init(.fsize, soft: UInt64(limits.fileSizeMiB) << 20, hard: UInt64(limits.fileSizeMiB) << 20),
            .init(.core, soft: 0, hard: 0),
            .init(.cpu, soft: cpu, hard: cpu + 1),  // SIGXCPU at the soft limit, SIGKILL a second later
        ]
    }

    /// What `job` brings to a prepared jail: Deno's arguments, the rlimits, and the bridge if it has hosts.
    func claim(for job: SkillJob, deno: DenoCommand) -> JobClaim {
        JobClaim(
            arguments: deno.arguments, resourceLimits: resourceLimits,
            egressBridge: job.manifest.network.isEmpty ? nil : EgressBridge(port: JailLayout.egressPort, socketPath: JailLayout.egressSocket))
    }

    /// Deno's command line and environment for `job`. A bound secret's variable holds its placeholder, never
    /// its value; a job holding bound secrets trusts its own interception CA (in the egress directory).
    func deno(for job: SkillJob) -> DenoCommand {
        let policy = configuration.policy
        let intercepts = !job.manifest.network.isEmpty && !job.boundSecrets.isEmpty
        var environmentSecrets = job.secrets
        for secret in job.boundSecrets {
            if case .success(let name) = SecretName.validate(secret.name) { environmentSecrets[name] = secret.placeholder }
        }
        return DenoCommand(
            manifest: job.manifest, secrets: environmentSecrets, limits: policy.limits, refusedRanges: policy.egress.refusedRanges,
            egressProxy: JailLayout.egressProxyURL, unsafeOpenPermissions: configuration.unsafeOpenDenoPermissions,
            environmentArguments: job.arguments, interceptionCertificate: intercepts ? JailLayout.interceptionCertificate : nil)
    }
}
