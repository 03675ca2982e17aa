import ArgumentParser
import Foundation
import JailPlan
import Sandbox
import Subprocess
import SystemPackage

extension BenchCommand {
    /// What cgroup v2 costs a job, measured where this host allows: on a private cgroup2 mount.
    ///
    /// A host that runs cgroup v1 (or hybrid, as this project's CI) binds every controller to v1, so a private
    /// v2 mount has none: no memory, pids or cpu limits can be written there, and the daemon cannot run jobs on
    /// it. What it does measure is what v2 changes about the job's path: the jail clones init and Deno straight
    /// into the job's cgroup (`CLONE_INTO_CGROUP`) instead of joining one cgroup per v1 hierarchy, and the
    /// cgroup is one directory to create and remove instead of three. Each sample is one cold jail (the jail
    /// the runner plans for the job, run as `oauth3-jail` with the environment block and the script on stdin),
    /// once with the v2 cgroup and once without, interleaved.
    struct Cgroup2Placement {
        /// The jail with Deno, cloned into a v2 cgroup; the same without a cgroup; creating and removing the cgroup.
        var inCgroup: [Double] = []
        var withoutCgroup: [Double] = []
        var createRemove: [Double] = []

        /// The rows `bench` prints, beside its v1 rows.
        func report(_ row: (String, Double) -> String, v1Placement: Double, v1Version: String) {
            let placement = Stopwatch.median(inCgroup) - Stopwatch.median(withoutCgroup)
            print(row("cold jail + Deno, cloned into a v2 cgroup (private mount)", Stopwatch.median(inCgroup)))
            print(row("cold jail + Deno, no cgroup (interleaved with the above)", Stopwatch.median(withoutCgroup)))
            print(row("  v2: putting the job in its cgroup (CLONE_INTO_CGROUP)", placement))
            print(row("  v2: cgroup create + remove (no limits: no controllers)", Stopwatch.median(createRemove)))
            print(row("  \(v1Version): putting the job in its cgroups (from above)", v1Placement))
        }
    }

    /// Mounts cgroup2 privately under the work root, runs `runs` interleaved pairs, and unmounts; `nil`, with
    /// the reason printed, where cgroup2 cannot be mounted (not root, or no cgroup2 in the kernel).
    static func measureCgroup2(runner: SkillRunner, job: SkillJob, runs: Int) async throws -> Cgroup2Placement? {
        let mount = runner.configuration.workRoot + "/bench-cgroup2-\(UUID().uuidString.prefix(8))"
        guard mkdir(mount, 0o700) == 0 else { throw ValidationError("cannot create \(mount): \(String(cString: strerror(errno)))") }
        defer { rmdir(mount) }
        guard Glibc.mount("none", mount, "cgroup2", 0, nil) == 0 else {
            print("cgroup v2 (private mount): not measured, cannot mount cgroup2: \(String(cString: strerror(errno)))")
            return nil
        }
        defer { umount2(mount, Int32(MNT_DETACH)) }
        let controllers = (try? String(contentsOfFile: mount + "/cgroup.controllers", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        print("cgroup v2 (private mount): controllers available: \(controllers.isEmpty ? "none (all bound to v1 on this host)" : controllers)")
        var placement = Cgroup2Placement()
        for round in 0..<(runs + 3) {
            let cgroup = mount + "/job-bench-\(round)"
            let createRemove = try await Stopwatch.milliseconds {
                guard mkdir(cgroup + "-empty", 0o755) == 0, rmdir(cgroup + "-empty") == 0 else {
                    throw ValidationError("cannot create and remove a cgroup under \(mount): \(String(cString: strerror(errno)))")
                }
            }
            guard mkdir(cgroup, 0o755) == 0 else { throw ValidationError("cannot create \(cgroup): \(String(cString: strerror(errno)))") }
            let inCgroup = try await Stopwatch.milliseconds { try await coldJail(runner: runner, job: job, cgroups: [cgroup]) }
            rmdir(cgroup)
            let withoutCgroup = try await Stopwatch.milliseconds { try await coldJail(runner: runner, job: job, cgroups: []) }
            guard round >= 3 else { continue }
            placement.inCgroup.append(inCgroup)
            placement.withoutCgroup.append(withoutCgroup)
            placement.createRemove.append(createRemove)
        }
        return placement
    }

    /// Runs `job` in a jail started for it, as the runner plans it, in `cgroups`; throws unless Deno exited 0.
    private static func coldJail(runner: SkillRunner, job: SkillJob, cgroups: [String]) async throws {
        let limits = runner.configuration.policy.limits
        let directory = try JobDirectory.create(under: runner.configuration.workRoot, owner: limits.uid, group: limits.gid)
        defer { directory.remove() }
        let (deno, jail) = runner.plan(job, in: directory.paths, cgroups: cgroups)
        let input = try EnvironmentBlock.encode(deno.environment) + job.source
        let result = try await Subprocess.run(
            .path(FilePath(runner.configuration.jailPath)), arguments: Arguments(jail.encoded()), environment: .custom([[UInt8]]()),
            input: .array(input), output: .discarded, error: .string(limit: 4096))
        guard result.terminationStatus.isSuccess else {
            throw ValidationError("the jail failed (\(result.terminationStatus)) in \(cgroups): \(result.standardError ?? "")")
        }
    }
}
