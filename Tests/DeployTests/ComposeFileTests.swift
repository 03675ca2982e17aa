import DCAPVerifier
import Foundation
import Gateway
import Subprocess
import SystemPackage
import TestSupport
import Testing
import Yams

/// dstack/docker-compose.yml: well-formed for the real docker compose, and within the deployment's rules.
@Suite("The measured compose file")
struct ComposeFileTests {
    static let compose = Fixture.repository.appendingPathComponent(".tools/compose/docker-compose").path

    @Test("It keeps every rule: one service, image by digest, dstack.sock and a named data volume only, daemon variables only, justified privileges")
    func keepsTheRules() throws {
        #expect(DeploymentCheck.composeProblems(try DeploymentCheck.read("docker-compose.yml")) == [])
    }

    @Test("Each broken copy is refused for its own reason", arguments: [
        ("      OAUTH3_LOG_LEVEL: info", "      OAUTH3_LOG_LEVEL: info\n      OAUTH3_LOGLEVEL: debug", "OAUTH3_LOGLEVEL is not one the daemon reads"),
        ("      OAUTH3_LOG_LEVEL: info", "      OAUTH3_LOG_LEVEL: ${VERBOSITY}", "interpolates $VERBOSITY"),
        ("@sha256:PINNED", ":latest", "is not pinned by an @sha256 digest"),  // PINNED: whatever digest the file pins
        ("    restart: unless-stopped", "    restart: unless-stopped\n    privileged: true", "sets 'privileged'"),
        ("    restart: unless-stopped", "    restart: unless-stopped\n    network_mode: host", "sets 'network_mode'"),
        ("      - /var/run/dstack.sock:/var/run/dstack.sock", "      - /var/run/dstack.sock:/var/run/dstack.sock\n      - /etc:/host-etc:ro", "host path /etc is mounted"),
        ("      - /var/run/dstack.sock:/var/run/dstack.sock\n", "", "/var/run/dstack.sock is not mounted"),
        ("      - oauth3-data:/var/lib/oauth3-enclave", "      - /srv/oauth3:/var/lib/oauth3-enclave", "host path /srv/oauth3 is mounted"),
        ("      - SETPCAP", "      - SETPCAP\n      - NET_ADMIN", "differs from the justified"),
        ("      - apparmor=unconfined", "      - apparmor=unconfined\n      - label=disable", "security_opt label=disable"),
        ("    image: registry.example", "    image: ${IMAGE}registry.example", "$IMAGE is interpolated outside the environment"),
        ("volumes:\n  oauth3-data:\n", "  debug-shell:\n    image: busybox@sha256:" + String(repeating: "1", count: 64) + "\nvolumes:\n  oauth3-data:\n",
         "services must be exactly"),
        ("x-oauth3-dstack-os: dstack-0.5.5", "x-oauth3-dstack-os: dstack-9.9.9", "names dstack-9.9.9, which has no pin dstack/os/dstack-9.9.9.json"),
        ("x-oauth3-dstack-os: dstack-0.5.5\n", "", "no x-oauth3-dstack-os"),
    ])
    func refusesBrokenCopies(_ change: (String, String, String)) throws {
        let original = try DeploymentCheck.read("docker-compose.yml")
        let pinned = try #require(original.firstMatch(of: /@sha256:([0-9a-f]{64})/)?.1, "the compose file pins no digest")
        let target = change.0.replacingOccurrences(of: "PINNED", with: String(pinned))
        #expect(original.contains(target), "the fixture no longer contains \(target)")
        let problems = DeploymentCheck.composeProblems(original.replacingOccurrences(of: target, with: change.1))
        #expect(problems.contains { $0.contains(change.2) }, "\(problems)")
    }

    @Test("Every variable it sets or interpolates is in ServeEnvironment, and every one of those is documented in DEPLOY.md")
    func variablesAreTheDaemons() throws {
        let deploy = try DeploymentCheck.read("DEPLOY.md")
        for variable in ServeEnvironment.allCases {
            #expect(deploy.contains("`\(variable.rawValue)`"), "DEPLOY.md does not document \(variable.rawValue)")
        }
    }

    @Test("Every privilege it grants is explained in DEPLOY.md")
    func privilegesAreExplained() throws {
        let deploy = try DeploymentCheck.read("DEPLOY.md")
        for item in DeploymentCheck.daemonCapabilities.union(DeploymentCheck.entrypointCapabilities).union(DeploymentCheck.securityOptions) {
            #expect(deploy.contains("`\(item)`"), "DEPLOY.md does not explain \(item)")
        }
    }

    @Test("The real docker compose (v2, from make setup) accepts it, and refuses a misspelt key")
    func dockerComposeAccepts() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.compose), "run `make setup`: it installs docker compose into .tools/compose")
        let file = DeploymentCheck.directory.appendingPathComponent("docker-compose.yml").path
        let environment = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "OAUTH3_PUBLIC_URL": "https://enclave.example"]
        let good = try await Fixture.execute(Self.compose, ["-f", file, "config", "--quiet"], environment: environment)
        #expect(good.status == 0 && !good.signaled, "\(good.err)")

        let broken = NSTemporaryDirectory() + "compose-\(UUID().uuidString).yml"
        try (try DeploymentCheck.read("docker-compose.yml")).replacingOccurrences(of: "    cap_add:", with: "    cap_addd:")
            .write(toFile: broken, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: broken) }
        let bad = try await Fixture.execute(Self.compose, ["-f", broken, "config", "--quiet"], environment: environment)
        #expect(bad.status != 0 && bad.err.contains("cap_addd"), "\(bad.err)")

        // The OS release field is accepted because it is an extension (x-): the same key without the prefix is refused.
        #expect(try DeploymentCheck.read("docker-compose.yml").contains("\nx-oauth3-dstack-os: "))
        let unprefixed = NSTemporaryDirectory() + "compose-\(UUID().uuidString).yml"
        try (try DeploymentCheck.read("docker-compose.yml")).replacingOccurrences(of: "\nx-oauth3-dstack-os: ", with: "\noauth3-dstack-os: ")
            .write(toFile: unprefixed, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: unprefixed) }
        let refused = try await Fixture.execute(Self.compose, ["-f", unprefixed, "config", "--quiet"], environment: environment)
        #expect(refused.status != 0 && refused.err.contains("oauth3-dstack-os"), "\(refused.err)")

        let missing = try await Fixture.execute(Self.compose, ["-f", file, "config", "--quiet"], environment: ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()])
        #expect(missing.status != 0 && missing.err.contains("OAUTH3_PUBLIC_URL"), "an unset public URL must stop the deployment: \(missing.err)")
    }

    /// The measured digest comes from `make image` (scripts/image), so a placeholder in the compose file stops a
    /// release; the Dockerfile's base-image placeholders only concern operators who build with Docker, whose
    /// digest is not the measured one, so they are reported, never a failure.
    @Test("Placeholders (all-zero digests, registry.example) are reported (the compose file's refused with DEPLOY_CHECK_RELEASE=1, as `make deploy-check` sets)")
    func placeholders() throws {
        let compose = DeploymentCheck.placeholders(in: ["dstack/docker-compose.yml": try DeploymentCheck.read("docker-compose.yml")])
        let dockerfile = DeploymentCheck.placeholders(in: ["dstack/Dockerfile": try DeploymentCheck.read("Dockerfile")])
        if ProcessInfo.processInfo.environment["DEPLOY_CHECK_RELEASE"] == "1" {
            #expect(compose == [], "pin the image digest before a release (make image-pin; dstack/DEPLOY.md)")
        }
        let reported = (ProcessInfo.processInfo.environment["DEPLOY_CHECK_RELEASE"] == "1" ? [] : compose) + dockerfile
        if !reported.isEmpty {
            Issue.record(Comment(rawValue: "placeholders to fill before a release (dstack/DEPLOY.md):\n" + reported.joined(separator: "\n")), severity: .warning)
        }
        #expect(DeploymentCheck.placeholders(in: ["x": "image: r.example/a@sha256:" + String(repeating: "0", count: 64)]).count == 1)
    }

    @Test("The compose file pins the digest this source builds (make deploy-check passes a fresh build's digest)",
          .enabled(if: ProcessInfo.processInfo.environment["DEPLOY_CHECK_IMAGE_DIGEST"] != nil, "only in make deploy-check, which builds the image first"))
    func pinnedDigestIsBuilt() throws {
        let built = try #require(ProcessInfo.processInfo.environment["DEPLOY_CHECK_IMAGE_DIGEST"])
        let compose = try DeploymentCheck.read("docker-compose.yml")
        let pinned = compose.firstMatch(of: /\n    image: [^@\n]+@(sha256:[0-9a-f]{64})\n/)?.1
        #expect(pinned.map(String.init) == built, "the compose file pins \(pinned.map(String.init) ?? "no digest") but this source builds \(built): run make image-pin")
    }

    @Test("A committed dstack/app-compose.json is exactly what app-compose makes of the compose file",
          .enabled(if: FileManager.default.fileExists(atPath: DeploymentCheck.directory.appendingPathComponent("app-compose.json").path),
                   "no dstack/app-compose.json is committed (make image-pin writes one)"))
    func committedAppCompose() throws {
        let committed = try #require(FileManager.default.contents(atPath: DeploymentCheck.directory.appendingPathComponent("app-compose.json").path))
        let compose = try DeploymentCheck.read("docker-compose.yml")
        let expected = AppCompose(name: "oauth3-enclave", dockerComposeFile: compose, allowedEnvs: AppCompose.referencedVariables(in: compose))
        #expect(Array(committed) == expected.encoded, "dstack/app-compose.json is stale: run make image-pin (or oauth3-enclave app-compose)")
    }

    @Test("The OS release verify selects from the committed app-compose.json is the one YAML reads in the compose file, and it has a pin")
    func osReleaseOfTheAppCompose() throws {
        let root = try #require(try Yams.load(yaml: try DeploymentCheck.read("docker-compose.yml")) as? [String: Any])
        let yamlRelease = try #require(root[OSPinSelection.composeKey] as? String)
        let appCompose = AppCompose(name: "oauth3-enclave", dockerComposeFile: try DeploymentCheck.read("docker-compose.yml"), allowedEnvs: [])
        #expect(try OSPinSelection.release(inAppCompose: appCompose.encoded) == yamlRelease)
        let pins = try OSPinSelection(appCompose: appCompose.encoded, directory: DeploymentCheck.directory.appendingPathComponent("os").path)
        #expect(pins.pins[yamlRelease]?.release == yamlRelease)
    }
}
