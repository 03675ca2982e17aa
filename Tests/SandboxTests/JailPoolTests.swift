import Foundation
import OAuth3Wire
import Jail
@testable import Sandbox
import SkillManifest
import TestSupport
import Testing

/// The pool of prepared jails against the real jail and Deno: one job per jail, never reused, refilled,
/// a failed prepared jail discarded with its job still run, nothing left after shutdown, and a pooled
/// jail with exactly the layers of a cold one.
@Suite("A pool of prepared jails", .serialized, .timeLimit(.minutes(3)))
struct JailPoolTests {
    static let hello = "// @skill hello\nconsole.log('hello from a prepared jail')\n"

    /// A runner with a pool of `size`, in the layers-only mode when `open` (Deno may read and write
    /// everything the jail lets it: what the jail allows is then what the job sees). Its jails are never
    /// booted, so every job takes the kind of jail these tests start with; `BootedJailTests` has the booted ones.
    func runner(size: Int, open: Bool = false) async throws -> SkillRunner {
        try await SkillRunner(configuration: Fixture.configuration {
            $0.pool = JailPoolConfiguration(size: size, boots: false)
            $0.unsafeOpenDenoPermissions = open
        })
    }

    /// Waits until the pool holds `count` jails, each prepared (waiting for its claim).
    func awaitPrepared(_ pool: JailPool, count: Int) async throws {
        try await waitUntil("\(count) prepared jails") {
            let jails = await pool.waitingJails
            guard jails.count == count else { return false }
            for jail in jails where !(await jail.awaitReadiness()) { return false }
            return true
        }
    }

    /// Processes whose command line names `workRoot` (every jail of a runner has its root below it).
    func processes(under workRoot: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { Int($0) != nil }.compactMap { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return line.contains(workRoot) ? "\(pid): \(line)" : nil
        }
    }

    @Test("Each job takes its own prepared jail, which runs exactly that job: the next job never sees the first one's files")
    func oneJobPerJail() async throws {
        let runner = try await runner(size: 1, open: true)
        let pool = try #require(runner.pool)
        await pool.fill()
        try await awaitPrepared(pool, count: 1)
        let first = await pool.waitingJails[0]
        let writer = try await Fixture.run(
            "// @skill writer\nDeno.writeTextFileSync('/tmp/left-behind', 'x'); console.log(Deno.readTextFileSync('/tmp/left-behind'))\n",
            runner: runner)
        #expect(writer.outcome == .ok && writer.stdout == "x\n", "\(writer.stderr)")
        #expect(first.hasEnded)  // the jail that ran it is gone
        try await awaitPrepared(pool, count: 1)  // refilled
        #expect(await pool.waitingJails[0] !== first)
        let reader = try await Fixture.run(
            "// @skill reader\ntry { Deno.readTextFileSync('/tmp/left-behind'); console.log('seen') } catch { console.log('fresh') }\n",
            runner: runner)
        #expect(reader.outcome == .ok && reader.stdout == "fresh\n", "\(reader.stderr)")
        let counts = await pool.counts
        #expect(counts.hits == 2 && counts.misses == 0 && counts.discarded == 0)
        // A claimed jail runs nothing more: claiming it again returns the first job's ending, not a second run.
        let again = await first.run(input: [], timeout: .seconds(5))
        #expect((try? again.get().stdout.bytes) == Array("x\n".utf8))
        await pool.shutdown()
    }

    @Test("The pool refills in the background after each job, up to its size")
    func refills() async throws {
        let runner = try await runner(size: 2)
        let pool = try #require(runner.pool)
        await pool.fill()
        try await awaitPrepared(pool, count: 2)
        let before = await pool.waitingJails  // held, so no later jail can reuse an address
        for _ in 0..<3 {
            let result = try await Fixture.run(Self.hello, runner: runner)
            #expect(result.outcome == .ok && result.stdout == "hello from a prepared jail\n", "\(result.stderr)")
        }
        try await awaitPrepared(pool, count: 2)
        let after = await pool.waitingJails
        #expect(!after.contains { jail in before.contains { $0 === jail } })
        #expect(await pool.counts.hits == 3)
        await pool.shutdown()
    }

    @Test("A prepared jail that died while it waited is discarded, and the job still runs in a fresh jail")
    func failedJailDiscarded() async throws {
        let runner = try await runner(size: 1)
        let pool = try #require(runner.pool)
        await pool.fill()
        try await awaitPrepared(pool, count: 1)
        let jail = await pool.waitingJails[0]
        let pid = try #require(jail.processID)
        kill(-pid, SIGKILL)  // the jail's whole process group, as an operator's stray kill would
        try await waitUntil("the killed jail ended") { jail.hasEnded }
        let result = try await Fixture.run(Self.hello, runner: runner)
        #expect(result.outcome == .ok && result.stdout == "hello from a prepared jail\n", "\(result.stderr)")
        let counts = await pool.counts
        #expect(counts.discarded == 1 && counts.hits == 0 && counts.misses == 1)
        await pool.shutdown()
    }

    @Test("Shutdown retires every prepared jail and leaves no process, job directory or cgroup behind")
    func shutdownLeavesNothing() async throws {
        let runner = try await runner(size: 2)
        let pool = try #require(runner.pool)
        await pool.fill()
        try await awaitPrepared(pool, count: 2)
        let jails = await pool.waitingJails
        let workRoot = runner.configuration.workRoot
        #expect(processes(under: workRoot).count >= 4)  // each jail: outside and init
        await pool.shutdown()
        #expect(processes(under: workRoot) == [])
        #expect(jails.allSatisfy { $0.hasEnded })
        for jail in jails {
            #expect(!FileManager.default.fileExists(atPath: jail.directory.paths.root))
            for directory in jail.cgroup?.directories ?? [] { #expect(!FileManager.default.fileExists(atPath: directory)) }
        }
        #expect(await pool.counts.retired == 2)
        // After shutdown a job still runs, in a jail of its own.
        let result = try await Fixture.run(Self.hello, runner: runner)
        #expect(result.outcome == .ok)
        #expect(processes(under: workRoot) == [])
    }

    /// What a job sees of its own layers: identity, capabilities, seccomp, no_new_privs, namespaces and mounts.
    static let layers = """
        // @skill layers
        const status = Deno.readTextFileSync('/proc/self/status').split('\\n')
          .filter((l) => /^(Uid|Gid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp|Seccomp_filters):/.test(l))
        const mounts = Deno.readTextFileSync('/proc/self/mountinfo').trim().split('\\n').map((l) => {
          const [left, right] = l.split(' - ')
          const f = left.split(' ')
          return [f[3], f[4], f[5], right].join(' ').replace(/job-[0-9a-f]{16}/g, 'job-X').replace(/oauth3-test-[0-9A-Fa-f-]+/g, 'W')
        })
        const namespaces = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'user', 'uts'].map((n) => Deno.readLinkSync('/proc/self/ns/' + n))
        console.log(JSON.stringify({ status, mounts, hostname: Deno.hostname(), pid: Deno.pid }))
        console.log(JSON.stringify(namespaces))
        """

    @Test("A pooled jail has exactly the layers of a cold one: identity, capabilities, seccomp, namespaces, mounts")
    func pooledEqualsCold() async throws {
        let pooled = try await runner(size: 1, open: true)
        let pool = try #require(pooled.pool)
        await pool.fill()
        try await awaitPrepared(pool, count: 1)
        let warm = try await Fixture.run(Self.layers, runner: pooled)
        #expect(await pool.counts.hits == 1)
        let cold = try await Fixture.run(Self.layers, runner: try await runner(size: 0, open: true))
        #expect(warm.outcome == .ok && cold.outcome == .ok, "\(warm.stderr) \(cold.stderr)")
        let warmLines = warm.stdout.split(separator: "\n"), coldLines = cold.stdout.split(separator: "\n")
        #expect(warmLines.count == 2 && coldLines.count == 2)
        #expect(warmLines.first == coldLines.first)
        let layers = String(warmLines.first ?? "")
        #expect(layers.contains("\"Seccomp:\\t2\"") && layers.contains("\"NoNewPrivs:\\t1\"") && layers.contains("\"CapEff:\\t0000000000000000\""))
        #expect(layers.contains("\"/ / ro,"))  // the read-only root
        // Every namespace is the job's own, not the test process's.
        for (index, name) in ["cgroup", "ipc", "mnt", "net", "pid", "user", "uts"].enumerated() {
            let host = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/\(name)")
            let seen = try JSONDecoder().decode([String].self, from: Data((warmLines.last ?? "").utf8))
            // (Not compared with the cold job's: the kernel reuses a freed namespace's inode number.)
            #expect(seen[index].hasPrefix(name + ":[") && seen[index] != host, "\(name)")
        }
        await pool.shutdown()
    }
}
