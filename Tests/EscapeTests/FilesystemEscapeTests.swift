import Foundation
import OAuth3Wire
import Sandbox
import TestSupport
import Testing

/// Escapes through the filesystem: host files, other jobs' leftovers, /proc, symlinks, imports.
@Suite("Escapes: files", .timeLimit(.minutes(3)))
struct FilesystemEscapeTests {
    /// A host file holding a secret, outside anything a job is given.
    static func hostSecretFile() throws -> (path: String, secret: String) {
        let secret = "host-secret-\(UUID().uuidString)"
        let path = Fixture.workRoot() + "/secret.json"
        try #"{"secret": "\#(secret)"}"#.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, secret)
    }

    @Test("A static JSON import of a host file finds nothing (Deno reads JSON imports even under --deny-read)", arguments: EscapeMode.allCases)
    func staticJSONImport(mode: EscapeMode) async throws {
        let host = try Self.hostSecretFile()
        let result = try await mode.run("// @skill json\nimport data from \"\(host.path)\" with { type: \"json\" }\nconsole.log(JSON.stringify(data))\n")
        #expect(result.outcome == .exitNonzero)
        #expect(result.stderr.contains("Module not found"), "\(result.stderr)")
        #expect(!result.stdout.contains(host.secret) && !result.stderr.contains(host.secret))
    }

    @Test("Relative and file: imports reach only the job's own empty home", arguments: EscapeMode.allCases)
    func relativeImports(mode: EscapeMode) async throws {
        let relative = try await mode.run("// @skill rel\nimport x from './policies/limits.json' with { type: 'json' }\nconsole.log(x)\n")
        #expect(relative.outcome == .exitNonzero && relative.stderr.contains("Module not found"))
        let dynamic = try await mode.run(
            "// @skill dyn\ntry { await import('file://\(Fixture.policies)/limits.json', { with: { type: 'json' } }); console.log('read') } catch (e) { console.log(e.message.split('\\n')[0]) }\n")
        #expect(dynamic.outcome == .ok)
        #expect(dynamic.stdout == "Module not found \"file://\(Fixture.policies)/limits.json\".\n", "\(dynamic.stdout)")
    }

    @Test("Files and localStorage do not survive into the next job", arguments: EscapeMode.allCases)
    func nothingSurvives(mode: EscapeMode) async throws {
        let runner = try await mode.runner()
        let source = """
            // @skill persist
            const seen = [localStorage.getItem("k")]
            for (const path of ["/tmp/left", "/home/left", "/deno/left"]) {
              try { seen.push(Deno.readTextFileSync(path)) } catch (e) { seen.push(e.name) }
              try { Deno.writeTextFileSync(path, "behind") } catch {}
            }
            localStorage.setItem("k", "behind")
            console.log(JSON.stringify(seen))
            """
        let first = try await mode.run(source, runner: runner)
        let second = try await mode.run(source, runner: runner)
        #expect(first.stdout == second.stdout, "\(first.stdout) then \(second.stdout)")
        #expect(!second.stdout.contains("behind"))
        let expected = mode.isRealistic ? #"[null,"NotCapable","NotCapable","NotCapable"]"# : #"[null,"NotFound","NotFound","NotFound"]"#
        #expect(second.stdout == expected + "\n")
    }

    @Test("/proc/self/environ holds only the job's own variables; /proc/1/environ is unreadable", arguments: EscapeMode.allCases)
    func procEnviron(mode: EscapeMode) async throws {
        let result = try await mode.run(
            """
            // @skill environ
            // @secrets MY_TOKEN
            for (const path of ["/proc/self/environ", "/proc/1/environ", "/proc/2/environ"]) {
              try { console.log(path, Deno.readTextFileSync(path).split("\\0").filter(Boolean).map((e) => e.split("=")[0]).sort().join(",")) }
              catch (e) { console.log(path, e.name) }
            }
            """, secrets: ["MY_TOKEN": "t0ken"])
        if mode.isRealistic {
            #expect(lines(result) == ["/proc/self/environ NotCapable", "/proc/1/environ NotCapable", "/proc/2/environ NotCapable"])
        } else {
            // A booted Deno started before its job, with Deno's settings alone: the secret it was given later is in
            // its memory (Deno.env), never in the environment block the kernel shows.
            let own = mode.isBooted
                ? "DENO_DIR,DENO_DISABLE_NODE_SHIM,DENO_NO_UPDATE_CHECK,HOME,NO_COLOR,TMPDIR"
                : "DENO_DIR,DENO_DISABLE_NODE_SHIM,DENO_NO_UPDATE_CHECK,HOME,MY_TOKEN,NO_COLOR,TMPDIR"
            #expect(lines(result) == ["/proc/self/environ \(own)", "/proc/1/environ PermissionDenied", "/proc/2/environ \(own)"])
        }
    }

    @Test("Only the job's own processes are visible in /proc (layers-only; realistic cannot read /proc)", arguments: EscapeMode.allCases)
    func otherProcesses(mode: EscapeMode) async throws {
        let result = try await mode.run(
            "// @skill ps\ntry { console.log([...Deno.readDirSync('/proc')].map((e) => e.name).filter((n) => /^\\d+$/.test(n)).sort().join(' ')) } catch (e) { console.log(e.name) }\n")
        #expect(result.stdout == (mode.isRealistic ? "NotCapable\n" : "1 2\n"))
    }

    @Test("A symlink to a host path or to init's root leads nowhere", arguments: EscapeMode.allCases)
    func symlinks(mode: EscapeMode) async throws {
        let host = try Self.hostSecretFile()
        let result = try await mode.run(
            """
            // @skill links
            for (const [target, link] of [["\(host.path)", "/tmp/a"], ["/proc/1/root/etc/passwd", "/tmp/b"], ["/proc/self/root/../../..\(host.path)", "/tmp/c"]]) {
              try { Deno.symlinkSync(target, link); console.log(Deno.readTextFileSync(link)) } catch (e) { console.log(e.name) }
            }
            """)
        #expect(!result.stdout.contains(host.secret))
        #expect(lines(result) == (mode.isRealistic ? ["NotCapable", "NotCapable", "NotCapable"] : ["NotFound", "PermissionDenied", "NotFound"]))
    }

    @Test("Nothing of the host's filesystem is visible", arguments: EscapeMode.allCases)
    func hostPaths(mode: EscapeMode) async throws {
        let result = try await mode.run(
            """
            // @skill look
            for (const path of ["/etc/passwd", "/sys/kernel", "/dev/tdx_guest", "/var/run/dstack.sock", "/var/run/tappd.sock", "\(Fixture.policies)"]) {
              try { Deno.statSync(path); console.log(path, "visible") } catch (e) { console.log(path, e.name) }
            }
            try { console.log([...Deno.readDirSync("/")].map((e) => e.name).sort().join(" ")) } catch (e) { console.log(e.name) }
            // The egress socket's directory (bound in every prepared jail): empty for a job without hosts, not writable.
            try { Deno.writeTextFileSync("/run/oauth3/x", "x"); console.log("written") } catch (e) { console.log(e.message.includes("os error 30)") ? "EROFS" : e.name) }
            try { console.log("[" + [...Deno.readDirSync("/run/oauth3")].map((e) => e.name).join(" ") + "]") } catch (e) { console.log(e.name) }
            """)
        let name = mode.isRealistic ? "NotCapable" : "NotFound"
        #expect(lines(result).count == 9, "\(result.stdout) \(result.stderr)")
        #expect(lines(result).prefix(6).allSatisfy { $0.hasSuffix(" " + name) }, "\(result.stdout)")
        if !mode.isRealistic {
            #expect(lines(result)[6] == "deno dev home lib lib64 proc run tmp usr", "\(result.stdout)")
            // Read-only; and the directory is 0711 root's, so the job cannot even list it (it holds nothing anyway).
            #expect(lines(result).suffix(2) == ["EROFS", "PermissionDenied"], "\(result.stdout)")
        } else {
            #expect(lines(result).suffix(2) == ["NotCapable", "NotCapable"], "\(result.stdout)")
        }
    }
}
