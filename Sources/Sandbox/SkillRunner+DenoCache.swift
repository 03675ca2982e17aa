import Crypto
import Egress
import JailPlan

extension SkillRunner {
    /// The cache entry `job` would use: its scope, Deno's version, Deno's exact arguments and its code's hash;
    /// `nil` when the runner keeps no cache or the job has no scope.
    func denoCacheKey(for job: SkillJob, deno: DenoCommand) -> DenoCache.Key? {
        guard denoCache != nil, let scope = job.cacheScope else { return nil }
        return DenoCache.Key(scope: scope, codeSHA256: SHA256.hash(data: job.source).hex, denoVersion: denoVersion, arguments: deno.arguments)
    }

    /// Writes `key`'s entry in the background from `job`'s code alone (``DenoCache``): nothing of the job but
    /// its source, header and timeout reaches the writer.
    func startDenoCacheWriter(for job: SkillJob, key: DenoCache.Key) {
        guard let denoCache else { return }
        let code = SkillJob(
            source: job.source, manifest: job.manifest, secrets: [:], timeoutSeconds: job.timeoutSeconds, cacheScope: job.cacheScope)
        denoCache.startWriting(key) { await self.writeDenoCache(for: code, key: key) }
    }

    /// The most a cache writer runs: enough for Deno to load and compile the code, which is all it is for.
    static let denoCacheWriterSeconds = 10

    /// Runs `job`'s code once in the cache writer's jail: the job's Deno arguments, Deno's own settings as its
    /// only environment (no secrets, no arguments, no proxy), no egress bridge (so no network at all), and a
    /// `DENO_DIR` bound read-write from the host; then stores what Deno cached there. Its output is discarded.
    func writeDenoCache(for job: SkillJob, key: DenoCache.Key) async {
        guard let denoCache else { return }
        let policy = configuration.policy
        let deno = DenoCommand(
            manifest: job.manifest, secrets: [:], limits: policy.limits, refusedRanges: policy.egress.refusedRanges,
            unsafeOpenPermissions: configuration.unsafeOpenDenoPermissions)
        var writer = blueprint
        writer.writesDenoCache = true
        var claim = writer.claim(for: job, deno: deno)
        claim.egressBridge = nil
        guard denoCacheKey(for: job, deno: deno) == key, let input = try? claim.encoded() + EnvironmentBlock.encode(deno.environment) + job.source,
            let jail = try? PreparedJail.start(writer)
        else {
            denoCache.abandonWriting(key)
            return
        }
        let observation = await jail.run(input: input, timeout: .seconds(min(timeoutSeconds(for: job), Self.denoCacheWriterSeconds)))
        // Every process of the writer's jail has ended (its pid namespace went with init): nothing changes
        // the output while it is read.
        if case .success(let observed) = observation, case .exited = observed.termination, jail.directory.jailFailureReport() == nil {
            denoCache.store(key, from: jail.directory.paths.denoCacheOutput)
        } else {
            denoCache.abandonWriting(key)
        }
        await jail.dispose()
    }
}
