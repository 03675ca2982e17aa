import DCAPVerifier
import Foundation
import Gateway
import OAuth3Client
import OAuth3Wire
import TestSupport
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What building and running the image needs (`scripts/setup.sh` installs all of it).
enum ImageTools {
    static let missing = ["/usr/bin/podman", "/usr/sbin/runc", "/usr/bin/mmdebstrap", "/usr/bin/curl",
                          Fixture.repository.appendingPathComponent(".tools/compose/docker-compose").path]
        .filter { !FileManager.default.isExecutableFile(atPath: $0) }
}

/// The runtime image, built as `make image` builds it (from the binaries these tests already built, so CI does
/// not compile twice) and run for real: podman, through the compose file, with the development guest agent's
/// socket where dstack.sock goes. What differs from a CVM is said by `scripts/image/compose-up.sh` as
/// `report:` lines, printed here.
@Suite("The image, built and run under podman through the compose file", .serialized, .timeLimit(.minutes(10)),
       .enabled(if: geteuid() == 0, "podman's rootful runtime and the image build need root"),
       .enabled(if: ImageTools.missing.isEmpty, "missing \(ImageTools.missing.joined(separator: ", ")): run scripts/setup.sh"))
struct ImageRunTests {
    @Test("It holds no compiler, package cache, shell history or file of the build user; it becomes ready, runs an approved job in the jail, and the result verifies")
    func buildAndRun() async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("oauth3-image-\(UUID().uuidString.prefix(8).lowercased())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let scripts = Fixture.repository.appendingPathComponent("scripts/image").path

        let build = try await Self.run(scripts + "/build.sh", ["--binaries", Fixture.buildDirectory.path, "--output", work + "/image"])
        #expect(build.status == 0, "build.sh failed: \(build.output)")
        let digest = try #require(build.output.firstMatch(of: /image digest: (sha256:[0-9a-f]{64})/)?.1, "\(build.output)")

        // What the image holds, read from the layout itself.
        let inspection = try await Self.run("/usr/bin/python3", [scripts + "/inspect_image.py", work + "/image/oci"])
        let facts = try #require(try JSONSerialization.jsonObject(with: Data(inspection.output.utf8)) as? [String: Any], "\(inspection.output)")
        #expect(facts["digest"] as? String == String(digest))
        for key in ["compilers", "caches", "histories", "build_user_files"] {
            #expect((facts[key] as? [String]) == [], "\(key): \(facts[key] ?? "missing")")
        }
        let ours = try #require(facts["our_files"] as? [String: String])
        #expect(Set(ours.keys).isSuperset(of: ["usr/local/bin/oauth3-enclave", "usr/local/bin/oauth3-jail", "usr/local/bin/deno",
                                                "usr/local/bin/oauth3-enclave-entrypoint", "usr/share/oauth3-enclave/policies/limits.json"]))
        #expect(ours.values.allSatisfy { $0.hasPrefix("0:0 ") } && !ours.isEmpty, "\(ours)")
        let packages = try String(contentsOfFile: work + "/image/packages.txt", encoding: .utf8)
        #expect(packages.contains("libseccomp2=") && packages.contains("libcap2=") && !packages.contains("apt="), "\(packages)")

        // The development guest agent measures the compose file's own app-compose.json.
        let compose = try DeploymentCheck.read("docker-compose.yml")
        let appCompose = work + "/app-compose.json"
        let manifest = AppCompose(name: "oauth3-enclave", dockerComposeFile: compose, allowedEnvs: AppCompose.referencedVariables(in: compose))
        try Data(manifest.encoded).write(to: URL(fileURLWithPath: appCompose))
        let socket = work + "/agent.sock"
        let agent = try ContainerRunTests.launch(Fixture.enclave, ["dev-guest-agent", "--socket", socket, "--compose", appCompose], environment: ["PATH": "/usr/bin:/bin"])
        defer { agent.terminate() }
        try await waitUntil("the development guest agent's socket exists") { FileManager.default.fileExists(atPath: socket) }

        let run = work + "/run"
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        let up = try await Self.run(scripts + "/compose-up.sh", ["up", run, work + "/image/oci", socket])
        do {
            try await exercise(up: up, manifest: manifest, appCompose: appCompose, work: work)
        } catch {
            _ = try? await Self.run(scripts + "/compose-up.sh", ["down", run])
            throw error
        }
        let down = try await Self.run(scripts + "/compose-up.sh", ["down", run])
        #expect(down.status == 0, "\(down.output)")
    }

    /// The running container: ready, the compose hash measured, an approved job, and its result verified.
    private func exercise(up: (status: Int32, output: String), manifest: AppCompose, appCompose: String, work: String) async throws {
        for line in up.output.split(separator: "\n") where line.hasPrefix("report:") { print("image run \(line)") }
        #expect(up.status == 0, "compose-up failed: \(up.output)")
        let base = try #require(up.output.firstMatch(of: /url=(http:\/\/127\.0\.0\.1:[0-9]+)/).flatMap { URL(string: String($0.1)) })
        let health = try String(contentsOf: base.appendingPathComponent("healthz"), encoding: .utf8)
        #expect(health.contains("\"compose_hash\":\"\(manifest.composeHash.hexString)\""), "\(health)")
        #expect(health.contains("\"user_namespace\":true"), "\(health)")

        // An approved job, end to end inside the container: jail, seccomp, the egress proxy.
        let account = try await OAuth3Client(baseURL: base, apiKey: nil).signup(name: "image")
        let client = OAuth3Client(baseURL: base, apiKey: account.apiKey)
        let skill = """
            // @skill image-check
            // @network example.invalid
            console.log("hello from the image");
            try { await fetch("http://undeclared.invalid/"); console.log("undeclared host: reached"); }
            catch (e) { console.log(`undeclared host: ${(e as Error).name}`); }
            """
        let job = try await client.execute(.init(skillCode: skill))
        try await ContainerRunTests.approveWithToken(job, at: base)
        let done = try await client.poll(job.requestId, timeout: .seconds(120))
        let stderr = done.result?.claims.run.stderr ?? ""
        #expect(done.status == "completed", "\(done.error ?? "") \(stderr)")
        #expect(done.result?.claims.run.stdout == "hello from the image\nundeclared host: NotCapable\n", "\(stderr)")
        let sandbox = done.result?.claims.run.sandbox
        #expect(sandbox?.userNamespace == true && sandbox?.seccomp == true && sandbox?.network == "proxy", "\(String(describing: sandbox))")
        if health.contains("\"cgroups\":\"none\"") { print("image run report: jobs ran with cgroups: none (see the report above)") }

        // The result, as the API returned it, verifies offline against the development root and the compose file.
        let resultFile = work + "/result.json"
        try JSONEncoder().encode(done).write(to: URL(fileURLWithPath: resultFile))
        let verify = try await Self.run(Fixture.enclave, ["verify", resultFile, "--allow-dev-root", "--expect-os", Fixture.repository.appendingPathComponent("dstack/os/development.json").path, "--compose", appCompose])
        #expect(verify.status == 0, "verify: \(verify.output)")
    }

    /// Runs a program with this process's environment (the scripts need PATH with sbin, HOME for pip) and
    /// returns its status and its stdout followed by its stderr.
    static func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        let result = try await Fixture.execute(executable, arguments, environment: environment)
        return (result.signaled ? -result.status : result.status, result.out + result.err)
    }
}
