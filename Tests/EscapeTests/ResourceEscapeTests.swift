import OAuth3Wire
import Sandbox
import TestSupport
import Testing

/// Escapes by exhausting resources: each must end with the exact outcome naming the limit, fast.
@Suite("Escapes: resources", .timeLimit(.minutes(3)))
struct ResourceEscapeTests {
    @Test("An infinite loop ends as timeout", arguments: EscapeMode.allCases)
    func infiniteLoop(mode: EscapeMode) async throws {
        let result = try await mode.run("// @skill spin\n// @timeout 1\nfor (;;) {}\n")
        #expect(result.outcome == .timeout)
        #expect((1000..<2000).contains(result.duration), "\(result.duration) ms")
    }

    @Test("A timer that never ends is a timeout too", arguments: EscapeMode.allCases)
    func timers(mode: EscapeMode) async throws {
        let result = try await mode.run("// @skill timers\n// @timeout 1\nsetInterval(() => {}, 10)\n")
        #expect(result.outcome == .timeout)
    }

    @Test("A heap bomb ends as heap_oom", arguments: EscapeMode.allCases)
    func heapBomb(mode: EscapeMode) async throws {
        let result = try await mode.run("// @skill heap\nconst a = []\nfor (;;) a.push(new Array(1e6).fill(1.5))\n") {
            $0.heapMiB = 64
        }
        #expect(result.outcome == .heapOOM, "\(result.signal ?? "-") \(result.stderr.suffix(200))")
    }

    @Test("An ArrayBuffer bomb (off the V8 heap) ends at the cgroup: memory_limit", arguments: EscapeMode.allCases)
    func arrayBufferBomb(mode: EscapeMode) async throws {
        let result = try await mode.run(
            "// @skill buffers\nconst keep = []\nfor (;;) { const b = new Uint8Array(16 << 20); b.fill(7); keep.push(b) }\n"
        ) { $0.memoryMiB = 192; $0.heapMiB = 64 }
        #expect(result.outcome == .memoryLimit, "\(result.signal ?? "-") \(result.stderr.suffix(200))")
        #expect(result.signal == "SIGKILL")
        let peak = try #require(result.memPeakBytes)
        #expect(peak > 150 << 20 && peak <= 200 << 20, "peak \(peak)")
    }

    @Test("A WebAssembly memory bomb ends as memory_limit", arguments: EscapeMode.allCases)
    func wasmBomb(mode: EscapeMode) async throws {
        let result = try await mode.run(
            """
            // @skill wasm
            const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 })
            for (;;) { const before = memory.buffer.byteLength; memory.grow(256); new Uint8Array(memory.buffer, before).fill(1) }
            """
        ) { $0.memoryMiB = 192; $0.heapMiB = 64 }
        #expect(result.outcome == .memoryLimit, "\(result.signal ?? "-") \(result.stderr.suffix(200))")
    }

    @Test("A Worker bomb ends at the pids limit", arguments: EscapeMode.allCases)
    func workerBomb(mode: EscapeMode) async throws {
        let result = try await mode.run(
            """
            // @skill workers
            // @timeout 20
            const workers = []
            for (;;) {
              workers.push(new Worker("data:text/javascript,setInterval(() => {}, 1000)", { type: "module" }))
              await new Promise((resolve) => setTimeout(resolve, 2))
            }
            """
        ) { $0.pidsMax = 48; $0.memoryMiB = 2048 }
        #expect(result.outcome == .pidsLimit, "\(result.outcome) \(result.signal ?? "-") \(result.stderr.suffix(300))")
    }

    @Test("CPU time past RLIMIT_CPU ends as cpu_limit", arguments: EscapeMode.allCases)
    func cpuLimit(mode: EscapeMode) async throws {
        let result = try await mode.run("// @skill burn\n// @timeout 20\nfor (;;) {}\n") { $0.cpuSeconds = 1 }
        #expect(result.outcome == .cpuLimit)
        #expect(result.signal == "SIGXCPU")
        // RLIMIT_CPU counts user and system time together; under load the kernel's share grows.
        let used = (result.cpuUserMs ?? 0) + (result.cpuSysMs ?? 0)
        #expect(used >= 900, "\(result.cpuUserMs ?? 0) ms user + \(result.cpuSysMs ?? 0) ms system CPU")
    }

    @Test("Output floods on either stream end as output_limit at once", arguments: EscapeMode.allCases, ["log", "error"])
    func outputFlood(mode: EscapeMode, stream: String) async throws {
        let result = try await mode.run("// @skill flood\n// @timeout 60\nconst s = 'z'.repeat(4096)\nfor (;;) console.\(stream)(s)\n") {
            $0.stdoutMaxBytes = 1 << 16
            $0.stderrMaxBytes = 1 << 16
        }
        #expect(result.outcome == .outputLimit)
        #expect(result.duration < 5000)
        #expect(stream == "log" ? result.stdoutTruncated : result.stderrTruncated)
    }

    @Test("Writing a file past RLIMIT_FSIZE ends as file_size_limit (layers-only; realistic cannot write)", arguments: EscapeMode.allCases)
    func fileSize(mode: EscapeMode) async throws {
        let result = try await mode.run(
            """
            // @skill bigfile
            try { Deno.writeFileSync("/tmp/big", new Uint8Array(12 << 20)); console.log("wrote") } catch (e) { console.log(e.name) }
            """
        ) { $0.fileSizeMiB = 4; $0.tmpfsMiB = 32 }
        if mode.isRealistic {
            #expect(result.outcome == .ok && result.stdout == "NotCapable\n")
        } else {
            #expect(result.outcome == .fileSizeLimit, "\(result.outcome) \(result.stdout)")
            #expect(result.signal == "SIGXFSZ")
        }
    }

    @Test("Descriptor exhaustion stops at RLIMIT_NOFILE and the job still ends normally", arguments: EscapeMode.allCases)
    func descriptorExhaustion(mode: EscapeMode) async throws {
        let result = try await mode.run(
            """
            // @skill fds
            const files = []
            try { for (;;) files.push(Deno.openSync("/dev/null")) } catch (e) { console.log(e.name, files.length) }
            """
        ) { $0.openFiles = 128 }
        #expect(result.outcome == .ok)
        if mode.isRealistic {
            #expect(result.stdout == "NotCapable 0\n")
        } else {
            // EMFILE surfaces as a plain Error once stdio and Deno's own descriptors are counted in.
            let words = result.stdout.split(separator: " ")
            #expect(words.first == "Error", "\(result.stdout)")
            #expect((64..<128).contains(Int(words.last?.dropLast() ?? "") ?? -1), "\(result.stdout)")
        }
    }
}
