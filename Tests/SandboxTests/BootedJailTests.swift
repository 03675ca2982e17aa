import Foundation
import JailPlan
import OAuth3Wire
@testable import Sandbox
import SkillManifest
import TestSupport
import Testing

/// Booted jails (Deno started before its job, ``BootShape``) against the real jail and Deno: a job sees
/// exactly what it sees in a jail started after its claim (module, variables, stdin, errors, exit code,
/// layers), secrets reach Deno only with the claim, a booted jail is taken only by a job of its shape, a
/// booted Deno that died is discarded, and a claim that changes the booted command is refused.
@Suite("Booted jails", .serialized, .timeLimit(.minutes(3)))
struct BootedJailTests {
    /// A runner with a pool of `size` that boots jails.
    func runner(size: Int = 1, open: Bool = false) async throws -> SkillRunner {
        try await SkillRunner(configuration: Fixture.configuration {
            $0.pool = JailPoolConfiguration(size: size, boots: true)
            $0.unsafeOpenDenoPermissions = open
        })
    }

    func job(_ source: String, secrets: [String: String] = [:], arguments: [String: String] = [:]) throws -> SkillJob {
        let manifest = try SkillManifest.parse(source)
        var named: [SecretName: String] = [:]
        for (name, value) in arguments { named[try SecretName.validate(name).get()] = value }
        return SkillJob(
            source: Array(source.utf8), manifest: manifest, secrets: SecretGrant(manifest: manifest, provided: secrets).granted, arguments: named)
    }

    static let hello = "// @skill hello\nconsole.log('hello')\n"

    /// The shape of the booted jail `job` would take on `runner`.
    func shape(of job: SkillJob, on runner: SkillRunner) -> BootShape? {
        runner.blueprint.bootShape(for: job, deno: runner.blueprint.deno(for: job))
    }

    /// A runner whose pool holds `size` jails booted for ``hello``, each one's Deno started.
    func bootedPool(size: Int = 1, open: Bool = false) async throws -> (runner: SkillRunner, pool: JailPool, hello: SkillJob) {
        let runner = try await runner(size: size, open: open)
        let pool = try #require(runner.pool)
        let hello = try job(Self.hello)
        await pool.prepare(booting: shape(of: hello, on: runner))
        #expect(await pool.awaitPrepared())
        try await waitUntil("\(size) booted Denos run") { Self.denoProcesses(under: runner.configuration.workRoot).count == size }
        return (runner, pool, hello)
    }

    /// Runs `job` until it ran in a booted jail (the first two runs of a shape take unbooted ones; the
    /// second's replacement is booted for it, the shape having repeated); returns the booted run.
    func runBooted(_ job: SkillJob, on runner: SkillRunner) async throws -> RunResult {
        let pool = try #require(runner.pool)
        for _ in 0..<4 {
            await pool.fill()
            #expect(await pool.awaitPrepared())
            let (result, timings) = try await runner.runTimed(job)
            if timings.booted { return result }
        }
        Issue.record("no run of the job took a booted jail")
        throw CancellationError()
    }

    /// What a job can tell of how it was started.
    static let probe = """
        // @skill probe
        // @secrets PROBE_TOKEN
        const stdin = await new Response(Deno.stdin.readable).text()
        const env = Deno.env.toObject()
        console.log(JSON.stringify({
          url: import.meta.url, main: import.meta.main, mainModule: Deno.mainModule, args: Deno.args, stdin,
          env: Object.keys(env).sort().map((k) => k + '=' + env[k]),
        }))
        throw new Error('the end of the probe')
        """

    @Test("A job in a booted jail sees what it sees in a jail started after its claim: module, variables, stdin, error, exit code")
    func sameAsCold() async throws {
        let job = try job(Self.probe, secrets: ["PROBE_TOKEN": "tok-9f2c81"], arguments: ["ANSWER": "42"])
        let booted = try await runBooted(job, on: try await runner())
        let cold = try await Fixture.runner().run(job)
        #expect(booted.exitCode == 1 && cold.exitCode == 1)
        #expect(booted.outcome == cold.outcome)
        #expect(booted.stdout == cold.stdout, "booted: \(booted.stdout)\ncold: \(cold.stdout)")
        #expect(booted.stdout.contains("\"url\":\"file:///home/$deno$stdin.mts\",\"main\":true"))
        #expect(booted.stdout.contains("\"ANSWER=42\"") && booted.stdout.contains("\"stdin\":\"\""))
        // The secret reached Deno (the result redacts it) and nothing of the preload is left in the environment.
        #expect(booted.stdout.contains("PROBE_TOKEN=[REDACTED") && !booted.stdout.contains("tok-9f2c81"))
        #expect(booted.stderr == cold.stderr, "booted: \(booted.stderr)\ncold: \(cold.stderr)")
        #expect(booted.stderr.contains("Uncaught (in promise) Error: the end of the probe"))
    }

    @Test("Variables reach a booted Deno whole: large, empty, with '=', newlines and non-ASCII")
    func variablesWhole() async throws {
        // 112 KiB: more than a pipe holds at once, less than one variable may hold at `execve` (128 KiB), which the
        // unbooted run it is compared with must pass.
        let large = String(repeating: "0123456789abcdef", count: 7_168)
        let source = """
            // @skill vars
            // @secrets TOKEN
            const env = Deno.env.toObject()
            const names = Object.keys(env).sort()  // Deno's own order is a hash map's
            const digest = async (s) => Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s))))
              .map((b) => b.toString(16).padStart(2, '0')).join('')
            console.log(JSON.stringify({ names, LARGE: await digest(env.LARGE), EMPTY: env.EMPTY, ODD: env.ODD, token: await digest(env.TOKEN) }))
            """
        let job = try job(source, secrets: ["TOKEN": "a=b\nc=d ünïcødé ✓"], arguments: ["LARGE": large, "EMPTY": "", "ODD": "x=y=z\n\tq"])
        let booted = try await runBooted(job, on: try await runner())
        let cold = try await Fixture.runner().run(job)
        #expect(booted.outcome == .ok && cold.outcome == .ok, "\(booted.stderr) \(cold.stderr)")
        #expect(booted.stdout == cold.stdout, "booted: \(booted.stdout)\ncold: \(cold.stdout)")
        #expect(booted.stdout.contains("\"EMPTY\":\"\"") && booted.stdout.contains(#""ODD":"x=y=z\n\tq""#))
    }

    @Test("A booted jail has exactly the layers of a cold one: identity, capabilities, seccomp, namespaces, mounts")
    func sameLayers() async throws {
        let job = try job(JailPoolTests.layers)
        let booted = try await runBooted(job, on: try await runner(open: true))
        let cold = try await runner(size: 0, open: true).run(job)
        #expect(booted.outcome == .ok && cold.outcome == .ok, "\(booted.stderr) \(cold.stderr)")
        #expect(booted.stdout.split(separator: "\n").first == cold.stdout.split(separator: "\n").first)
    }

    @Test("A booted Deno holds no secret before its claim: its command line and environment are the job's settings only")
    func nothingSecretBeforeTheClaim() async throws {
        let runner = try await runner()
        let pool = try #require(runner.pool)
        let job = try job(Self.probe, secrets: ["PROBE_TOKEN": "tok-5d10aa"], arguments: ["ANSWER": "arg-77e1"])
        _ = try await runBooted(job, on: runner)  // the shape repeats: the replacement is booted for it
        await pool.fill()
        #expect(await pool.awaitPrepared())
        let jail = try #require(await pool.waitingJails.first)
        #expect(jail.shape != nil)
        let settings = try #require(jail.shape).settings
        #expect(settings.allSatisfy { !$0.contains("tok-5d10aa") && !$0.contains("arg-77e1") && !$0.hasPrefix("PROBE_TOKEN=") })
        // Deno is running in it: its command line names the preload and the script's path, and holds no value.
        let deno = try await waitForDeno(under: runner.configuration.workRoot)
        #expect(deno.contains(JailLayout.bootPreload) && deno.contains(JailLayout.bootScript))
        await pool.shutdown()
    }

    /// The command line of a Deno process started by a jail below `workRoot`.
    func waitForDeno(under workRoot: String) async throws -> String {
        var found: String?
        try await waitUntil("a booted Deno runs") {
            found = Self.denoProcesses(under: workRoot).first?.commandLine
            return found != nil
        }
        return try #require(found)
    }

    /// Deno processes started with a preload (booted jails') by a jail below `workRoot` (their parent, init,
    /// has the jail's command line), with their pids.
    static func denoProcesses(under workRoot: String) -> [(pid: Int32, commandLine: String)] {
        func commandLine(_ pid: Int32) -> String? {
            FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map { String(decoding: $0.map { $0 == 0 ? 32 : $0 }, as: UTF8.self) }
        }
        func parent(_ pid: Int32) -> Int32? {
            guard let stat = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
            let text = String(decoding: stat, as: UTF8.self)
            guard let close = text.lastIndex(of: ")") else { return nil }
            return text[text.index(after: close)...].split(separator: " ").dropFirst().first.flatMap { Int32($0) }
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.compactMap { pid in
            guard let line = commandLine(pid), line.hasPrefix(JailLayout.deno + " run "), line.contains(JailLayout.bootPreload),
                let parent = parent(pid), commandLine(parent)?.contains(workRoot) == true
            else { return nil }
            return (pid, line)
        }
    }

    @Test("A booted jail is taken only by a job of its shape; a job of another shape runs unbooted, and the pool moves to it once it repeats")
    func onlyItsShape() async throws {
        let runner = try await runner()
        let pool = try #require(runner.pool)
        let local = try job("// @skill local\nconsole.log('local')\n")
        let networked = try job("// @skill networked\n// @network api.example.com\nconsole.log('networked')\n")
        _ = try await runBooted(local, on: runner)
        await pool.fill()
        #expect(await pool.awaitPrepared())
        #expect(await pool.waitingJails.first?.shape == shape(of: local, on: runner))
        // Its first run is no reason to give up the other shape's jail; its second is.
        for expected in [(misses: 1, retired: 0), (misses: 2, retired: 1)] {
            let (result, timings) = try await runner.runTimed(networked)
            #expect(result.outcome == .ok && result.stdout == "networked\n", "\(result.stderr)")
            #expect(!timings.booted)
            let counts = await pool.counts
            #expect(counts.misses == expected.misses && counts.retired == expected.retired)
            await pool.fill()
            #expect(await pool.awaitPrepared())
        }
        #expect(await pool.awaitPrepared())
        let next = try await runner.runTimed(networked)
        #expect(next.timings.booted && next.result.stdout == "networked\n", "\(next.result.stderr)")
        await pool.shutdown()
    }

    @Test("A repeating job's jail is replaced by one booted for its shape, and one unbooted jail stays for other shapes")
    func refillsBooted() async throws {
        let runner = try await runner(size: 2)
        let pool = try #require(runner.pool)
        let hello = try job(Self.hello)
        let shape = shape(of: hello, on: runner)
        var booted = 0
        for _ in 0..<4 {
            await pool.fill()
            #expect(await pool.awaitPrepared())
            let (result, timings) = try await runner.runTimed(hello)
            #expect(result.outcome == .ok && result.stdout == "hello\n", "\(result.stderr)")
            if timings.booted { booted += 1 }
        }
        await pool.fill()
        #expect(await pool.awaitPrepared())
        let shapes = await pool.waitingJails.map(\.shape)
        #expect(shapes.count == 2 && shapes.contains(nil) && shapes.contains(shape))
        let counts = await pool.counts
        #expect(booted == 2 && counts.hits == 4 && counts.bootedHits == 2 && counts.misses == 0)
        await pool.shutdown()
    }

    @Test("Shutdown retires booted jails with their Deno: no process, job directory or cgroup is left")
    func shutdownLeavesNothing() async throws {
        let (runner, pool, _) = try await bootedPool(size: 2)
        let jails = await pool.waitingJails
        #expect(jails.count == 2 && jails.allSatisfy { $0.shape != nil })
        let denos = Self.denoProcesses(under: runner.configuration.workRoot).map(\.pid)
        await pool.shutdown()
        for pid in denos { #expect(kill(pid, 0) == -1 && errno == ESRCH, "Deno \(pid) is still there") }
        for jail in jails {
            #expect(jail.hasEnded)
            #expect(!FileManager.default.fileExists(atPath: jail.directory.paths.root))
            for directory in jail.cgroup?.directories ?? [] { #expect(!FileManager.default.fileExists(atPath: directory)) }
        }
    }

    @Test("A hostile job cannot reach a booted Deno waiting for a later job: /proc shows it nothing, kill(-1) finds nothing")
    func waitingDenoOutOfReach() async throws {
        // Deno's own checks off: only the jail stands between the two.
        let (runner, pool, hello) = try await bootedPool(size: 2, open: true)
        let hostile = try job("""
            // @skill hostile
            const pids = [...Deno.readDirSync('/proc')].map((e) => e.name).filter((n) => /^\\d+$/.test(n)).sort()
            console.log(pids.join(' '))
            try { Deno.kill(-1, 'SIGKILL'); console.log('signalled') } catch (e) { console.log(e.name, e.message.split(':')[0]) }
            """)
        let (result, timings) = try await runner.runTimed(hostile)
        #expect(timings.booted && result.outcome == .ok, "\(result.outcome) \(result.stderr)")
        // Its own pid namespace holds init and itself; kill(-1) spares both, so it finds no process at all.
        #expect(result.stdout == "1 2\nNotFound ESRCH\n", "\(result.stdout) \(result.stderr)")
        // The other booted jail still waits, its Deno alive, and runs the next job.
        let waiting = try #require(await pool.waitingJails.first { $0.shape != nil })
        #expect(!waiting.hasEnded && Self.denoProcesses(under: runner.configuration.workRoot).count >= 1)
        let next = try await runner.runTimed(hello)
        #expect(next.timings.booted && next.result.outcome == .ok && next.result.stdout == "hello\n", "\(next.result.stderr)")
        await pool.shutdown()
    }

    @Test("A booted jail whose Deno died while it waited is discarded, and the job still runs")
    func deadDenoDiscarded() async throws {
        let (runner, pool, hello) = try await bootedPool()
        let jail = try #require(await pool.waitingJails.first)
        #expect(jail.shape != nil)
        for deno in Self.denoProcesses(under: runner.configuration.workRoot) { kill(deno.pid, SIGKILL) }
        try await waitUntil("the jail whose Deno died ended") { jail.hasEnded }
        let (result, timings) = try await runner.runTimed(hello)
        #expect(result.outcome == .ok && result.stdout == "hello\n", "\(result.stderr)")
        #expect(!timings.booted)
        #expect(await pool.counts.discarded == 1)
        await pool.shutdown()
    }

    @Test("A claim that changes the booted command is refused by the jail, and the job does not run")
    func changedCommandRefused() async throws {
        let (runner, pool, hello) = try await bootedPool()
        let shape = shape(of: hello, on: runner)
        let jail = try #require(await pool.take(shape: shape))
        #expect(jail.shape == shape && jail.reserve())
        // The command of an unbooted jail (its script on stdin): arguments that differ from the booted ones.
        let deno = runner.blueprint.deno(for: hello)
        let input = try runner.blueprint.claim(for: hello, deno: deno).encoded() + EnvironmentBlock.encode(deno.environment) + hello.source
        let observation = try await jail.run(input: input, timeout: .seconds(10)).get()
        #expect(observation.termination == .exited(JailFailure.exitCode))
        #expect(observation.stdout.bytes.isEmpty)
        let report = try #require(jail.directory.jailFailureReport())
        #expect(report.hasPrefix("claim 0 the claim's arguments or limits differ"))
        await jail.dispose()
        await pool.shutdown()
    }
}
