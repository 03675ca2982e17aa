import Crypto
import Foundation
import OAuth3Wire
@testable import Sandbox
import SkillManifest
import TestSupport
import Synchronization
import Testing

/// Warm Deno caches against the real jail and Deno: used for the same scope's same code, never for another
/// scope's; written by the daemon's writer (no secrets), never by a job; a job cannot change the entry it
/// reads; a tampered or partly written entry is not used; entries go with their scope and past the size limit.
@Suite("Warm Deno caches for code that has run before", .serialized, .timeLimit(.minutes(3)))
struct DenoCacheTests {
    /// A runner whose jobs keep a cache in a fresh directory; in the layers-only mode when `open`, so a job
    /// can look at (and try to change) what its jail holds.
    func runner(open: Bool = false, maximumBytes: Int = 256 << 20) async throws -> SkillRunner {
        let directory = Fixture.workRoot() + "/deno-cache"
        return try await SkillRunner(configuration: Fixture.configuration {
            $0.denoCacheDirectory = directory
            $0.denoCacheMaximumBytes = maximumBytes
            $0.denoCacheWriteAfterRuns = 1
            $0.unsafeOpenDenoPermissions = open
        })
    }

    func job(_ source: String, scope: String?, secrets: [String: String] = [:]) throws -> SkillJob {
        let manifest = try SkillManifest.parse(source)
        return SkillJob(source: Array(source.utf8), manifest: manifest, secrets: SecretGrant(manifest: manifest, provided: secrets).granted, cacheScope: scope)
    }

    func key(_ job: SkillJob, _ runner: SkillRunner) throws -> DenoCache.Key {
        try #require(runner.denoCacheKey(for: job, deno: runner.blueprint.deno(for: job)))
    }

    /// Reports, from inside the job, whether the seed directory exists, whether writing into it fails, and
    /// the marker its `DENO_DIR` started with; then leaves a marker naming its secret in its own copy (the
    /// layers-only mode lets it write there; a real job's Deno refuses every write).
    static let inspector = """
        // @skill inspector
        // @secrets TOKEN
        const seed = '/run/oauth3/deno-cache'
        let seeded = false, seedWrite = 'allowed', marker = null
        try { seeded = Deno.statSync(seed).isDirectory } catch {}
        try { Deno.writeTextFileSync(seed + '/gen/marker', 'poison') } catch (e) { seedWrite = e.name }
        try { marker = Deno.readTextFileSync('/deno/gen/marker') } catch {}
        Deno.mkdirSync('/deno/gen', { recursive: true })
        Deno.writeTextFileSync('/deno/gen/marker', 'token:' + Deno.env.get('TOKEN'))
        console.log(JSON.stringify({ seeded, seedWrite, marker }))
        """

    struct Report: Decodable, Equatable {
        var seeded: Bool
        var seedWrite: String
        var marker: String?
    }

    func inspect(_ runner: SkillRunner, scope: String, token: String) async throws -> (Report, RunTimings) {
        let (result, timings) = try await runner.runTimed(try job(Self.inspector, scope: scope, secrets: ["TOKEN": token]))
        #expect(result.outcome == .ok, "\(result.stderr)")
        return (try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8)), timings)
    }

    @Test("The same scope's same code starts with the daemon's cache, read-only, a copy the job cannot change for the next run; another scope never gets it")
    func sameScopeOnly() async throws {
        let runner = try await runner(open: true)
        let cache = try #require(runner.denoCache)
        let (cold, coldTimings) = try await inspect(runner, scope: "tenant-a", token: "first-secret-value")
        #expect(coldTimings.denoCache == false && !cold.seeded && cold.marker == nil)
        await cache.finishWriting()
        let key = try key(try job(Self.inspector, scope: "tenant-a"), runner)
        #expect(cache.contains(key))
        let stored = try #require(FileManager.default.contents(atPath: cache.path(of: key) + "/gen/marker"))
        // The writer ran the same code without the job's secret: what it left for later runs holds none.
        #expect(String(decoding: stored, as: UTF8.self) == "token:undefined")

        for run in 1...2 {
            let (warm, timings) = try await inspect(runner, scope: "tenant-a", token: "secret-of-run-\(run)")
            #expect(timings.denoCache == true && warm.seeded)
            // Each run starts from the entry as the writer stored it, never from what an earlier run left in its copy.
            #expect(warm.marker == "token:undefined")
            #expect(warm.seedWrite != "allowed")
        }
        #expect(FileManager.default.contents(atPath: cache.path(of: key) + "/gen/marker") == stored)

        let (other, otherTimings) = try await inspect(runner, scope: "tenant-b", token: "b")
        #expect(otherTimings.denoCache == false && !other.seeded && other.marker == nil)
        await cache.finishWriting()
    }

    @Test("A hello skill's second run finds V8's code cache for its own module, written by the daemon")
    func realSkillIsWarm() async throws {
        let runner = try await runner()
        let cache = try #require(runner.denoCache)
        let hello = try job("// @skill hello\nconsole.log('hello')\n", scope: "tenant-a")
        let (first, firstTimings) = try await runner.runTimed(hello)
        #expect(first.stdout == "hello\n" && firstTimings.denoCache == false)
        await cache.finishWriting()
        let entry = cache.path(of: try key(hello, runner))
        let files = Set(DenoCache.regularFiles(under: entry))
        #expect(files.contains("v8_code_cache_v2") && files.contains(DenoCache.manifestName))
        #expect(files.contains { $0.hasPrefix("gen/") && $0.hasSuffix(".js") })
        let (second, secondTimings) = try await runner.runTimed(hello)
        #expect(second.stdout == "hello\n" && second.outcome == .ok && secondTimings.denoCache == true)
    }

    @Test("A tampered entry, or one without its manifest, is removed and not used")
    func tamperedOrPartial() async throws {
        let runner = try await runner()
        let cache = try #require(runner.denoCache)
        for damage in ["tamper", "partial"] {
            let hello = try job("// @skill hello\nconsole.log('\(damage)')\n", scope: "tenant-a")
            _ = try await runner.runTimed(hello)
            await cache.finishWriting()
            let entry = cache.path(of: try key(hello, runner))
            if damage == "tamper" {
                let file = entry + "/v8_code_cache_v2"
                var bytes = try #require(FileManager.default.contents(atPath: file))
                bytes[bytes.count / 2] ^= 0xFF
                try bytes.write(to: URL(fileURLWithPath: file))
            } else {
                try FileManager.default.removeItem(atPath: entry + "/" + DenoCache.manifestName)
            }
            let (result, timings) = try await runner.runTimed(hello)
            #expect(result.stdout == "\(damage)\n" && timings.denoCache == false)
            #expect(!FileManager.default.fileExists(atPath: entry))
            await cache.finishWriting()
        }
    }

    @Test("A cache written by another process is not trusted: a new cache starts empty")
    func anotherProcess() async throws {
        let directory = Fixture.workRoot() + "/deno-cache"
        let leftover = directory + "/scope/entry"
        try FileManager.default.createDirectory(atPath: leftover, withIntermediateDirectories: true)
        _ = try DenoCache(directory: directory)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == [])
    }

    @Test("Entries go with their scope, and the least recently used go past the size limit")
    func removal() async throws {
        let source = Fixture.workRoot()
        try FileManager.default.createDirectory(atPath: source + "/gen", withIntermediateDirectories: true)
        try Data(repeating: 7, count: 1000).write(to: URL(fileURLWithPath: source + "/v8_code_cache_v2"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: source + "/gen/module.js"))
        try Data("not kept".utf8).write(to: URL(fileURLWithPath: source + "/localStorage"))
        let cache = try DenoCache(directory: Fixture.workRoot() + "/deno-cache", maximumBytes: 2500)
        let keys = (0..<3).map { DenoCache.Key(scope: "tenant-\($0 % 2)", codeSHA256: "code-\($0)", denoVersion: "2.9.8", arguments: ["run", "-"]) }
        for key in keys.prefix(2) { #expect(cache.store(key, from: source)) }
        #expect(Set(DenoCache.regularFiles(under: cache.path(of: keys[0]))) == ["v8_code_cache_v2", "gen/module.js", DenoCache.manifestName])
        // Use the first, so the second is the least recently used when the third pushes past 2500 bytes.
        let seeded = Fixture.workRoot() + "/seed"
        #expect(cache.seed(keys[0], into: seeded))
        #expect(FileManager.default.contents(atPath: seeded + "/gen/module.js") == Data("x".utf8))
        #expect(cache.store(keys[2], from: source))
        #expect(cache.contains(keys[0]) && !cache.contains(keys[1]) && cache.contains(keys[2]))
        #expect(!FileManager.default.fileExists(atPath: cache.path(of: keys[1])))
        #expect(cache.bytes == 2 * 1001)

        cache.remove(scope: "tenant-0")  // keys 0 and 2
        #expect(!cache.contains(keys[0]) && !cache.contains(keys[2]))
        #expect(!FileManager.default.fileExists(atPath: cache.path(of: keys[0])) && !FileManager.default.fileExists(atPath: cache.path(of: keys[2])))
        #expect(cache.bytes == 0)
    }

    @Test("By default a writer starts only when the same code runs a second time without an entry")
    func writerOnSecondRun() async throws {
        let cache = try DenoCache(directory: Fixture.workRoot() + "/deno-cache")
        #expect(cache.writeAfterRuns == 2)
        let key = DenoCache.Key(scope: "tenant", codeSHA256: "code", denoVersion: "2.9.8", arguments: ["run", "-"])
        let other = DenoCache.Key(scope: "tenant", codeSHA256: "other", denoVersion: "2.9.8", arguments: ["run", "-"])
        let started = Counter()
        cache.startWriting(key) { started.add(); cache.abandonWriting(key) }
        cache.startWriting(other) { started.add(); cache.abandonWriting(other) }
        await cache.finishWriting()
        #expect(started.value == 0, "code seen once costs no writer's run")
        cache.startWriting(key) { started.add(); cache.abandonWriting(key) }
        await cache.finishWriting()
        #expect(started.value == 1, "the second run without an entry starts its writer")
    }

    /// Counts calls from the writers' tasks.
    final class Counter: Sendable {
        private let count = Mutex(0)
        func add() { count.withLock { $0 += 1 } }
        var value: Int { count.withLock { $0 } }
    }

    @Test("A job without a scope neither reads nor writes a cache")
    func noScope() async throws {
        let runner = try await runner()
        let cache = try #require(runner.denoCache)
        let (_, timings) = try await runner.runTimed(try job("// @skill hello\nconsole.log(1)\n", scope: nil))
        await cache.finishWriting()
        #expect(timings.denoCache == nil && cache.bytes == 0)
    }
}
