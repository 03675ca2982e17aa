import Foundation
import OAuth3Wire
import Sandbox
import SkillManifest
import TestSupport
import Testing

/// What a job hands Deno through its environment (secrets, the agent's arguments) reaches Deno only:
/// the jail, a Swift program, starts with an empty environment and gets Deno's on stdin.
@Suite("Deno's environment never passes through the jail's own", .serialized, .timeLimit(.minutes(2)))
struct JailEnvironmentTests {
    @Test("Arguments named like runtime variables are plain values of Deno's environment; the jail's Swift runtime never sees them")
    func runtimeNamedArguments() async throws {
        let values = [
            "SWIFT_BACKTRACE": "enable=yes,interactive=no,oauth3-marker=1", "SWIFT_DEBUG_ENABLE_MALLOC_SCRIBBLE": "YES",
            "GCONV_PATH": "/nonexistent", "LOCPATH": "/nonexistent",
        ]
        var arguments: [SecretName: String] = [:]
        for (name, value) in values { arguments[try SecretName.validate(name).get()] = value }
        let source = """
            // @skill runtime-names
            for (const name of \(values.keys.sorted())) console.log(name + "=" + Deno.env.get(name))
            """
        let job = SkillJob(source: Array(source.utf8), manifest: try SkillManifest.parse(source), secrets: [:], arguments: arguments)
        let result = try await Fixture.runner().run(job)
        #expect(result.outcome == .ok, "\(result.stderr)")
        #expect(result.stdout == values.keys.sorted().map { "\($0)=\(values[$0]!)\n" }.joined())
        // With SWIFT_BACKTRACE in its own environment, the jail's runtime would warn about the unknown setting.
        #expect(!result.stderr.contains("swift runtime"), "\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
    }

    @Test("While a job runs, neither jail process (outside, and init) holds a secret or an argument's name in /proc/PID/environ, nor the secret in memory")
    func nothingInTheJailsProcesses() async throws {
        let secret = "jail-environ-secret-\(UUID().uuidString)"
        let argument = try SecretName.validate("ARG_" + UUID().uuidString.replacingOccurrences(of: "-", with: "_")).get()
        let source = """
            // @skill sleeper
            // @secrets API_TOKEN
            // @timeout 30
            const token = Deno.env.get("API_TOKEN")!
            await new Promise((resolve) => setTimeout(resolve, 3000))
            console.log(token.length, Deno.env.get("\(argument)"))
            """
        let manifest = try SkillManifest.parse(source)
        let runner = try await Fixture.runner()
        let secretName = try SecretName.validate("API_TOKEN").get()
        let running = Task {
            try await runner.run(SkillJob(source: Array(source.utf8), manifest: manifest, secrets: [secretName: secret], arguments: [argument: "argument-value"]))
        }

        // Deno itself holds the secret in its environment (that is where it belongs), which is how we find it;
        // its parent is init of the job's pid namespace, and init's the jail outside.
        let jail = URL(fileURLWithPath: Fixture.jail).resolvingSymlinksInPath().path
        var deno: Int32?
        let deadline = ContinuousClock.now + .seconds(20)
        while deno == nil && ContinuousClock.now < deadline {
            deno = Fixture.processes(withEnvironmentContaining: secret).first { ProcessInspection.executable(of: $0) != jail }
            if deno == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        let program = try #require(deno, "Deno never started with the secret in its environment")
        try await Task.sleep(for: .milliseconds(300))  // init wipes right after its fork; give it that moment
        let initPID = try #require(ProcessInspection.parent(of: program))
        let outside = try #require(ProcessInspection.parent(of: initPID))
        #expect(ProcessInspection.executable(of: initPID) == jail && ProcessInspection.executable(of: outside) == jail)
        // The scans below can see a secret: Deno's stack, where its environment lives, shows it.
        #expect(ProcessInspection.memory(of: program, regions: { $0.hasSuffix("[stack]") }, contains: Array(secret.utf8)))

        #expect(Fixture.processes(withEnvironmentContaining: secret) == [program])
        for pid in [outside, initPID] {
            let environ = try #require(ProcessInspection.environment(of: pid), "cannot read /proc/\(pid)/environ")
            #expect(environ.isEmpty, "jail process \(pid) has an environment: \(String(decoding: environ, as: UTF8.self))")
            #expect(environ.range(of: Data(argument.rawValue.utf8)) == nil)
            #expect(!ProcessInspection.memory(of: pid, regions: { _ in true }, contains: Array(secret.utf8)), "jail process \(pid) still holds the secret")
        }

        let result = try await running.value
        #expect(result.outcome == .ok, "\(result.stderr)")
        #expect(result.stdout == "\(secret.count) argument-value\n")
    }
}

/// What the host's `/proc` tells about a process (root reads every process's).
enum ProcessInspection {
    /// A `/proc` file, read to its end (Foundation's `String(contentsOfFile:)` stops after one page of
    /// a file whose size the kernel reports as 0).
    static func read(_ path: String) -> Data? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return try? handle.readToEnd() ?? Data()
    }

    /// The parent pid, from `/proc/PID/stat` (read after the command name, which may hold spaces).
    static func parent(of pid: Int32) -> Int32? {
        guard let stat = read("/proc/\(pid)/stat").map({ String(decoding: $0, as: UTF8.self) }), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    /// The path of the binary the process runs.
    static func executable(of pid: Int32) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")
    }

    /// The process's environment block as the kernel shows it.
    static func environment(of pid: Int32) -> Data? {
        read("/proc/\(pid)/environ")
    }

    /// Whether any readable mapping whose `/proc/PID/maps` line passes `regions` holds `needle`.
    static func memory(of pid: Int32, regions: (String) -> Bool, contains needle: [UInt8]) -> Bool {
        guard let maps = read("/proc/\(pid)/maps").map({ String(decoding: $0, as: UTF8.self) }) else { return false }
        let fd = open("/proc/\(pid)/mem", O_RDONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        for line in maps.split(separator: "\n") where regions(String(line)) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, fields[1].hasPrefix("r") else { continue }
            let bounds = fields[0].split(separator: "-").compactMap { UInt64($0, radix: 16) }
            guard bounds.count == 2, bounds[1] > bounds[0], bounds[1] - bounds[0] <= 1 << 30 else { continue }
            var bytes = [UInt8](repeating: 0, count: Int(bounds[1] - bounds[0]))
            let read = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(bounds[0])) }
            guard read > 0 else { continue }
            if Data(bytes[0..<read]).range(of: Data(needle)) != nil { return true }
        }
        return false
    }
}
