import Crypto
import Foundation
import OAuth3Client
import OAuth3Wire
import Subprocess
import SystemPackage
import TestSupport
import Testing

/// Runs the real `oauth3` binary; every `👉 … URL` line it prints on stderr is handed to `onApprovalLink`
/// while it runs (as a human would click it).
func oauth3(
    _ arguments: [String], environment: [String: String], stdin: String = "",
    onApprovalLink: @escaping @Sendable (String) async throws -> Void = { _ in }
) async throws -> (status: Int32, out: String, err: String) {
    try await watched(Fixture.oauth3, arguments, environment: environment, stdin: stdin, onApprovalLink: onApprovalLink)
}

/// Runs `executable`, handing every `👉 … URL` line it prints on stderr to `onApprovalLink` while it runs.
func watched(
    _ executable: String, _ arguments: [String], environment: [String: String], workingDirectory: String? = nil, stdin: String = "",
    onApprovalLink: @escaping @Sendable (String) async throws -> Void
) async throws -> (status: Int32, out: String, err: String) {
    let result = try await Subprocess.run(
        .path(FilePath(executable)), arguments: Arguments(arguments),
        environment: .custom(environment.map { Array("\($0.key)=\($0.value)\0".utf8) }), workingDirectory: workingDirectory.map { FilePath($0) },
        input: .string(stdin), output: .string(limit: 1 << 20), error: .sequence
    ) { execution in
        var err = ""
        for try await line in execution.standardError.strings() {
            err += line + (line.hasSuffix("\n") ? "" : "\n")
            if line.contains("👉"), let url = line.split(separator: " ").last.map(String.init) {
                try await onApprovalLink(url.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        return err
    }
    let code: Int32 = switch result.terminationStatus {
    case .exited(let code): code
    case .signaled(let signal): 128 + signal
    }
    return (code, result.standardOutput, result.closureResult)
}

/// Approves the request an approval link names.
func approveLink(_ daemon: LiveDaemon, _ url: String) async throws {
    let id = String(url.split(separator: "/").last!.split(separator: "?").first!)
    let reply = try await daemon.raw("POST", "/approve/\(id)", body: decision(token(of: url)), headers: ["Content-Type": "application/json"])
    #expect(reply.status == 200, "\(reply.body)")
}

@Suite("The oauth3 CLI against a live daemon", .serialized, .timeLimit(.minutes(3)), .stopsDaemons)
struct CLITests {
    func environment(_ daemon: LiveDaemon, home: String) -> [String: String] {
        ["HOME": home, "OAUTH3_URL": daemon.url.absoluteString, "PATH": "/usr/bin:/bin"]
    }

    @Test("execute: signs up on first use (key saved 0600), shows the approval link on stderr, prints the final JSON, exits 0")
    func execute() async throws {
        let daemon = try await LiveDaemon.start()
        let home = Fixture.workRoot()
        let code = home + "/hello-skill.ts"
        try hello.write(toFile: code, atomically: true, encoding: .utf8)
        let run = try await oauth3(["execute", "--code", code], environment: environment(daemon, home: home)) { url in
            try await approveLink(daemon, url)
        }
        #expect(run.status == 0, "\(run.err)")
        #expect(run.err.contains("👉 Approve: \(daemon.url.absoluteString)/approve/exec_"))
        #expect(run.err.contains("🔑 Signed up as tenant_"))
        let status = try JSONDecoder().decode(ExecutionStatus.self, from: Data(run.out.utf8))
        #expect(status.status == "completed" && status.skillId == "hello-skill")
        #expect(status.result?.claims.run.stdout == "hello from the enclave\n")
        #expect(try permissions(home + "/.oauth3/key") == 0o600)
        #expect(try permissions(home + "/.oauth3") == 0o700)
    }

    @Test("A denied execution exits 1 with the final JSON")
    func denied() async throws {
        let daemon = try await LiveDaemon.start()
        let home = Fixture.workRoot()
        let (agent, _) = try await daemon.tenant()
        try hello.write(toFile: home + "/s.ts", atomically: true, encoding: .utf8)
        let run = try await oauth3(["execute", "--code", home + "/s.ts", "--key", agent.apiKey!], environment: environment(daemon, home: home)) { url in
            let id = String(url.split(separator: "/").last!.split(separator: "?").first!)
            _ = try await daemon.raw("POST", "/approve/\(id)", body: decision(token(of: url), "deny"), headers: ["Content-Type": "application/json"])
        }
        #expect(run.status == 1)
        #expect(try JSONDecoder().decode(ExecutionStatus.self, from: Data(run.out.utf8)).status == "denied")
    }

    @Test("enclave pin and secrets set --seal with --os-pins: the OS pin the booted compose names; a release without a pin is refused before anything is sent")
    func osPinsByCompose() async throws {
        let directory = try AuditorVerdictTests.pinDirectory()
        for (release, accepted) in [("development", true), ("dstack-9.9.9", false)] {
            let compose = AuditorVerdictTests.appCompose(naming: release)
            let daemon = try await LiveDaemon.start(appCompose: compose)
            let home = Fixture.workRoot()
            let env = environment(daemon, home: home)
            #expect(try await oauth3(["signup"], environment: env).status == 0)
            let composeFile = home + "/app-compose.json"
            try Data(compose).write(to: URL(fileURLWithPath: composeFile))
            let options = ["--allow-dev-root", "--compose", composeFile, "--os-pins", directory]
            let pinned = try await oauth3(["enclave", "pin"] + options, environment: env)
            let sealed = try await oauth3(["secrets", "set", "SEALED", "--seal"] + options, environment: env, stdin: "sealed-value")
            let names = try await oauth3(["secrets", "list"], environment: env)
            if accepted {
                #expect(pinned.status == 0 && pinned.err.contains("OS development"), "\(pinned.err)")
                #expect(sealed.status == 0 && sealed.err.contains("sealed to the attested enclave"), "\(sealed.err)")
                #expect(names.out.contains("\"SEALED\""), "\(names.out)")
            } else {
                let reason = "OS not pinned (release dstack-9.9.9 has no pin in \(directory))"
                #expect(pinned.status != 0 && pinned.err.contains(reason), "\(pinned.err)")
                #expect(sealed.status != 0 && sealed.err.contains(reason), "\(sealed.err)")
                #expect(names.out.contains("\"secrets\":[]"), "\(names.out)")
            }
        }
    }

    @Test("secrets set (value from stdin, never the command line), list, delete; status and poll")
    func secretsAndStatus() async throws {
        let daemon = try await LiveDaemon.start()
        let home = Fixture.workRoot()
        let env = environment(daemon, home: home)
        #expect(try await oauth3(["signup"], environment: env).status == 0)
        let set = try await oauth3(["secrets", "set", "GH_TOKEN"], environment: env, stdin: "ghp_from_stdin\n")
        #expect(set.status == 0, "\(set.err)")
        let bound = try await oauth3(["secrets", "set", "BOUND", "--host", "api.github.com", "--host", "*.example.com:8443"], environment: env, stdin: "ghp_bound\n")
        #expect(bound.status == 0 && bound.err.contains("bound to api.github.com, *.example.com:8443"), "\(bound.err)")
        let list = try await oauth3(["secrets", "list"], environment: env)
        #expect(list.out.contains("\"GH_TOKEN\"") && !list.out.contains("ghp_from_stdin") && !list.out.contains("ghp_bound"))
        #expect(list.out.contains(#""binding":{"hosts":["*.example.com:8443","api.github.com:443"],"placement":"header"}"#), "\(list.out)")
        let badHost = try await oauth3(["secrets", "set", "BOUND", "--host", "https://api.github.com"], environment: env, stdin: "v")
        #expect(badHost.status != 0 && badHost.err.contains("hosts[0]"), "\(badHost.err)")
        #expect(try await oauth3(["secrets", "delete", "BOUND"], environment: env).status == 0)
        // Sealing needs the application meant: named, or pinned first (trust on first use).
        let unnamed = try await oauth3(["secrets", "set", "SEALED", "--seal", "--allow-dev-root"], environment: env, stdin: "v")
        #expect(unnamed.status != 0 && unnamed.err.contains("oauth3 enclave pin") && unnamed.err.contains("--compose FILE"), "\(unnamed.err)")
        let pinFile = Fixture.repository.appendingPathComponent("dstack/os/development.json").path
        let unrooted = try await oauth3(["enclave", "pin", "--expect-os", pinFile], environment: env)
        #expect(unrooted.status != 0 && unrooted.err.contains("--allow-dev-root"), "\(unrooted.err)")
        let unpinnedOS = try await oauth3(["enclave", "pin", "--allow-dev-root"], environment: env)
        #expect(unpinnedOS.status != 0 && unpinnedOS.err.contains("--expect-os FILE"), "\(unpinnedOS.err)")
        let pinned = try await oauth3(["enclave", "pin", "--allow-dev-root", "--expect-os", pinFile], environment: env)
        let composeHash = SHA256.hash(data: Data("{\"test\":true}".utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(pinned.status == 0 && pinned.err.contains("compose hash \(composeHash)") && pinned.err.contains("OS development"), "\(pinned.err)")
        let shown = try await oauth3(["enclave", "show"], environment: env)
        #expect(shown.status == 0 && shown.out.contains(composeHash), "\(shown.out)")
        let sealed = try await oauth3(["secrets", "set", "SEALED", "--seal", "--allow-dev-root"], environment: env, stdin: "sealed-value")
        #expect(sealed.status == 0 && sealed.err.contains("sealing only to the pinned enclave") && sealed.err.contains("sealed to the attested enclave"), "\(sealed.err)")
        // Another expectation than the enclave's refuses, before anything is sent.
        let otherApp = try await oauth3(["secrets", "set", "SEALED2", "--seal", "--allow-dev-root", "--expect-app-id", "00", "--expect-os", pinFile], environment: env, stdin: "v")
        #expect(otherApp.status != 0 && otherApp.err.contains("app_id") && otherApp.err.contains("expected 00"), "\(otherApp.err)")
        #expect(try await oauth3(["secrets", "delete", "SEALED"], environment: env).status == 0)
        #expect(try await oauth3(["secrets", "delete", "GH_TOKEN"], environment: env).status == 0)
        #expect(try await oauth3(["secrets", "list"], environment: env).out.contains("\"secrets\":[]"))
        let key = try String(contentsOfFile: home + "/.oauth3/key", encoding: .utf8).trimmingCharacters(in: .newlines)
        let job = try await daemon.client(key).execute(.init(skillCode: hello))
        let status = try await oauth3(["status", job.requestId], environment: env)
        #expect(status.status == 0 && status.out.contains("\"pending\""), "status exits 0 for any status it read, as the SDK's CLI")
        try await approve(daemon, job)
        let polled = try await oauth3(["poll", job.requestId], environment: env)
        #expect(polled.status == 0 && polled.out.contains("\"completed\""))
    }
}

/// The permission bits of a file, as `ls -l` shows them.
private func permissions(_ path: String) throws -> Int {
    try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
}
