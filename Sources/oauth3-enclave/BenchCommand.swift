import ArgumentParser
import Foundation
import OAuth3Wire
import Sandbox
import SkillManifest
import Subprocess
import SystemPackage

/// `oauth3-enclave bench SKILL`: what one job costs inside a long-running daemon, against bare Deno,
/// and where the time goes. Medians over interleaved runs, on a monotonic clock.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure the sandbox's per-job overhead against bare Deno.")

    @Argument(help: "A skill without secrets or hosts.")
    var skill: String
    @Option(help: "Measured runs of each kind (after 3 warm-up runs).")
    var runs = 30
    @OptionGroup var installation: Installation.Options

    func run() async throws {
        let located = try Installation.locate(installation)
        let policy = try PolicySet.load(from: located.policyDirectory)
        let configuration = try located.sandboxConfiguration(installation, policy: policy)
        let runner = try await SkillRunner(configuration: configuration)
        // The same sandbox without a cgroup, to tell the cgroup's cost from the jail's.
        var withoutCgroup = configuration
        withoutCgroup.cgroupHierarchy = .v2(parent: "/nonexistent/oauth3-bench")
        withoutCgroup.unsafeAllowMissingCgroups = true
        let cgroupless = try await SkillRunner(configuration: withoutCgroup)
        // The daemon's way: a jail prepared before the job, refilled (and waited for) between runs.
        var pooledConfiguration = configuration
        pooledConfiguration.pool = JailPoolConfiguration(size: 1, boots: false)
        let pooled = try await SkillRunner(configuration: pooledConfiguration)
        guard let pool = pooled.pool else { throw ValidationError("no pool") }
        // The same with Deno started ahead (a booted jail of the job's shape, as the daemon's pool keeps for
        // jobs that ran before).
        var bootedConfiguration = configuration
        bootedConfiguration.pool = JailPoolConfiguration(size: 1, boots: true)
        let booting = try await SkillRunner(configuration: bootedConfiguration)
        guard let bootPool = booting.pool else { throw ValidationError("no pool") }
        guard let source = FileManager.default.contents(atPath: skill) else { throw ValidationError("cannot read \(skill)") }
        let job = SkillJob(source: Array(source), manifest: try SkillManifest.parse(source, configuration: policy.manifest), secrets: [:])
        // The same, for a skill that has run before: the daemon's warm Deno cache for it (written once, up front).
        var warmConfiguration = pooledConfiguration
        let cacheDirectory = configuration.workRoot + "/bench-deno-cache-\(UUID().uuidString)"
        warmConfiguration.denoCacheDirectory = cacheDirectory
        warmConfiguration.denoCacheWriteAfterRuns = 1
        defer { try? FileManager.default.removeItem(atPath: cacheDirectory) }
        let warm = try await SkillRunner(configuration: warmConfiguration)
        guard let warmPool = warm.pool, let cache = warm.denoCache else { throw ValidationError("no pool or Deno cache") }
        var cachedJob = job
        cachedJob.cacheScope = "bench"
        _ = try await warm.run(cachedJob)
        await cache.finishWriting()
        let limits = policy.limits
        func time(_ body: () async throws -> Void) async rethrows -> Double { try await Stopwatch.milliseconds(body) }

        var samples: [String: [Double]] = [:]
        for round in 0..<(runs + 3) {
            let measured = round >= 3
            let sandboxed = try await time {
                let result = try await runner.run(job)
                guard result.success else { throw ValidationError("the skill failed in the sandbox: \(result.outcome) \(result.stderr)") }
            }
            let noCgroup = try await time { _ = try await cgroupless.run(job) }
            await pool.fill()
            guard await pool.awaitPrepared() else { throw ValidationError("the pool's jail failed to prepare") }
            var steps = RunTimings()
            let fromPool = try await time {
                let (result, timings) = try await pooled.runTimed(job)
                guard result.success, timings.pooled else { throw ValidationError("the pooled job failed or found no prepared jail: \(result.outcome)") }
                steps = timings
            }
            await booting.prepareBootedJails(for: job)
            guard await bootPool.awaitPrepared() else { throw ValidationError("the pool's booted jail failed to prepare") }
            var bootedSteps = RunTimings()
            let fromBooted = try await time {
                let (result, timings) = try await booting.runTimed(job)
                guard result.success, timings.pooled, timings.booted else {
                    throw ValidationError("the booted job failed or found no booted jail: \(result.outcome) \(result.stderr)")
                }
                bootedSteps = timings
            }
            await warmPool.fill()
            guard await warmPool.awaitPrepared() else { throw ValidationError("the pool's jail failed to prepare") }
            let fromWarm = try await time {
                let (result, timings) = try await warm.runTimed(cachedJob)
                guard result.success, timings.pooled, timings.denoCache == true else {
                    throw ValidationError("the warm job failed, found no prepared jail or no Deno cache: \(result.outcome)")
                }
            }
            let bareFile = try await time { try await Self.deno(located.denoPath, ["run", "--no-prompt", skill], input: []) }
            let bareStdin = try await time {
                // The same flags and stdin script as a job, a fresh DENO_DIR, no jail, no cgroup.
                let scratch = runner.configuration.workRoot + "/bench-\(UUID().uuidString)"
                try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: scratch) }
                let (deno, _) = runner.plan(job, in: JobDirectory.Paths(root: scratch))
                try await Self.deno(located.denoPath, deno.arguments, input: Array(source), environment: Dictionary(uniqueKeysWithValues: deno.environment.map { ($0.name, $0.value) }).merging(["DENO_DIR": scratch, "HOME": scratch, "TMPDIR": scratch]) { $1 })
            }
            let directory = try await time {
                let made = try JobDirectory.create(under: runner.configuration.workRoot, owner: limits.uid, group: limits.gid)
                made.remove()
            }
            var cgroup = 0.0
            if let hierarchy = runner.host.cgroups {
                cgroup = try await time {
                    let made = try JobCgroup.create(
                        in: hierarchy, id: "bench-\(round)", memoryBytes: UInt64(limits.memoryMiB) << 20, pidsMax: limits.pidsMax,
                        cpuCores: limits.cpuCores)
                    await made.destroy()
                }
            }
            if measured {
                func ms(_ duration: Duration) -> Double { Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15 }
                for (name, value) in [("pooled", fromPool), ("pooledJail", ms(steps.jail)), ("pooledRun", ms(steps.jobRun)), ("pooledCleanup", ms(steps.cleanup)), ("pooledClassify", ms(steps.classify))] {
                    samples[name, default: []].append(value)
                }
                for (name, value) in [("booted", fromBooted), ("bootedRun", ms(bootedSteps.jobRun))] {
                    samples[name, default: []].append(value)
                }
                for (name, value) in [("warm", fromWarm), ("sandboxed", sandboxed), ("noCgroup", noCgroup), ("bareFile", bareFile), ("bareStdin", bareStdin), ("directory", directory), ("cgroup", cgroup)] {
                    samples[name, default: []].append(value)
                }
            }
        }
        func median(_ name: String) -> Double { Stopwatch.median(samples[name, default: []]) }
        let jail = median("noCgroup") - median("bareStdin") - median("directory")
        let placement = median("sandboxed") - median("noCgroup") - median("cgroup")
        func row(_ label: String, _ value: Double) -> String { label.padding(toLength: 58, withPad: " ", startingAt: 0) + String(format: "%7.1f ms", value) }
        print("skill \(skill), \(runs) interleaved runs each; user namespace: \(runner.host.userNamespace), cgroups: \(runner.host.cgroups?.version.rawValue ?? "none")")
        print(row("bare `deno run SKILL` (warm DENO_DIR)", median("bareFile")))
        print(row("bare Deno, job's flags, script on stdin, fresh DENO_DIR", median("bareStdin")))
        print(row("sandboxed job, jail started for it (no pool), everything", median("sandboxed")))
        print(row("  of which: Deno itself (bare, as above)", median("bareStdin")))
        print(row("  of which: per-job directory create + remove", median("directory")))
        print(row("  of which: jail (namespaces, root, seccomp, init) + supervision", jail))
        print(row("  of which: cgroup create + limits + destroy", median("cgroup")))
        print(row("  of which: putting the job in its cgroup (\(runner.host.cgroups?.version.rawValue ?? "none"))", placement))
        print(row("sandboxed job without a cgroup", median("noCgroup")))
        print(row("sandboxed job in a prepared jail (the daemon's pool)", median("pooled")))
        print(row("  of which: taking the prepared jail", median("pooledJail")))
        print(row("  of which: claim, Deno, the jail's end", median("pooledRun")))
        print(row("  of which: cgroup counters, cgroup and directory removal", median("pooledCleanup")))
        print(row("  of which: classification and redaction", median("pooledClassify")))
        print(String(format: "median ratio prepared jail / bare deno run: %.2fx", median("pooled") / median("bareFile")))
        print(row("sandboxed job in a prepared jail, warm Deno cache (ran before)", median("warm")))
        print(String(format: "median ratio prepared jail with a warm Deno cache / bare deno run: %.2fx", median("warm") / median("bareFile")))
        print(row("sandboxed job in a booted jail (Deno started before the job)", median("booted")))
        print(row("  of which: claim, the job in Deno, the jail's end", median("bootedRun")))
        print(String(format: "median ratio booted jail / bare deno run: %.2fx", median("booted") / median("bareFile")))
        print(row("overhead over bare `deno run SKILL`", median("sandboxed") - median("bareFile")))
        print(row("jail overhead (no cgroup) over bare Deno with the job's flags", median("noCgroup") - median("bareStdin")))
        print(String(format: "median ratio sandboxed / bare deno run: %.2fx", median("sandboxed") / median("bareFile")))
        await pool.shutdown()
        await bootPool.shutdown()
        await warmPool.shutdown()
        if runner.host.cgroups?.version != .v2, let v2 = try await Self.measureCgroup2(runner: runner, job: job, runs: runs) {
            v2.report(row, v1Placement: placement, v1Version: runner.host.cgroups?.version.rawValue ?? "none")
        }
    }

    private static func deno(_ path: String, _ arguments: [String], input: [UInt8], environment: [String: String] = ["NO_COLOR": "1"]) async throws {
        let result = try await Subprocess.run(
            .path(FilePath(path)), arguments: Arguments(arguments),
            environment: .custom(environment.map { Array("\($0.key)=\($0.value)\0".utf8) }),
            input: .array(input), output: .discarded, error: .discarded)
        guard result.terminationStatus.isSuccess else { throw ValidationError("bare deno failed: \(result.terminationStatus)") }
    }
}
