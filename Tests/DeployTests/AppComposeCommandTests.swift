import Attestation
import DCAPVerifier
import Foundation
import OAuth3Wire
import TestSupport
import Testing

/// `oauth3-enclave app-compose` and `compose-hash`, run as an auditor runs them, on the repository's compose file.
@Suite("app-compose and compose-hash on dstack/docker-compose.yml")
struct AppComposeCommandTests {
    static let composeFile = DeploymentCheck.directory.appendingPathComponent("docker-compose.yml").path
    static let environment = ["PATH": "/usr/bin:/bin"]

    func enclave(_ arguments: [String], input: [UInt8] = []) async throws -> (status: Int32, out: String, err: String) {
        let result = try await Fixture.execute(Fixture.enclave, arguments, environment: Self.environment, input: input)
        return (result.status, result.out, result.err)
    }

    @Test("app-compose embeds the file verbatim, with the interpolated variables as allowed_envs, and round-trips through compose-hash")
    func roundTrip() async throws {
        let made = try await enclave(["app-compose", Self.composeFile])
        #expect(made.status == 0, "\(made.err)")
        let bytes = Array(made.out.utf8)
        let document = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        let text = try DeploymentCheck.read("docker-compose.yml")
        #expect(document["docker_compose_file"] == .string(text))
        #expect(document["allowed_envs"] == .array([.string("OAUTH3_JWT_SECRET"), .string("OAUTH3_PUBLIC_URL")]))
        #expect(document["runner"] == .string("docker-compose") && document["manifest_version"] == .number(2))

        // The command, the library and a re-encoding in the canonical form agree byte for byte.
        let library = AppCompose(name: "oauth3-enclave", dockerComposeFile: text, allowedEnvs: AppCompose.referencedVariables(in: text))
        #expect(bytes == library.encoded)
        #expect(CanonicalJSON.encode(document) == bytes)

        let hash = ComposeHash.of(bytes).hexString
        #expect(made.err.contains("compose hash: \(hash)"))
        let fromStdin = try await enclave(["compose-hash", "-"], input: bytes)
        #expect(fromStdin.out == hash + "\n")
        let file = NSTemporaryDirectory() + "app-compose-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let written = try await enclave(["app-compose", Self.composeFile, "--output", file])
        #expect(written.status == 0 && written.out.isEmpty)
        #expect(FileManager.default.contents(atPath: file).map(Array.init) == bytes)
        #expect(try await enclave(["compose-hash", file]).out == hash + "\n")

        // The development guest agent measures the same hash for the same file: one implementation.
        let authority = try DevelopmentAuthority(seed: Array(repeating: 7, count: 32), appCompose: bytes)
        #expect(authority.info.composeHash == hash)
    }

    @Test("Python's json.dumps(sort_keys, compact, ensure_ascii=False), the dstack SDK's form, writes the same bytes", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") || FileManager.default.isExecutableFile(atPath: "/usr/local/bin/python3"), "python3 is not installed"))
    func pythonAgrees() async throws {
        let made = try await enclave(["app-compose", Self.composeFile])
        let script = #"import json,sys; d=json.load(sys.stdin); sys.stdout.write(json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False))"#
        let python = FileManager.default.isExecutableFile(atPath: "/usr/local/bin/python3") ? "/usr/local/bin/python3" : "/usr/bin/python3"
        let result = try await Fixture.execute(python, ["-c", script], environment: ["PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"], input: Array(made.out.utf8))
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out == made.out)
    }

    @Test("Options are measured: --env-names keeps its order and warns about a variable left out; a bad name is refused")
    func options() async throws {
        let plain = try await enclave(["app-compose", Self.composeFile])
        let ordered = try await enclave(["app-compose", Self.composeFile, "--env-names", "OAUTH3_PUBLIC_URL,OAUTH3_JWT_SECRET"])
        let document = try JSONDecoder().decode(JSONValue.self, from: Data(ordered.out.utf8))
        #expect(document["allowed_envs"] == .array([.string("OAUTH3_PUBLIC_URL"), .string("OAUTH3_JWT_SECRET")]))
        #expect(ordered.out != plain.out)

        let partial = try await enclave(["app-compose", Self.composeFile, "--env-names", "OAUTH3_PUBLIC_URL"])
        #expect(partial.status == 0 && partial.err.contains("interpolates $OAUTH3_JWT_SECRET, which is not in --env-names"))

        let bad = try await enclave(["app-compose", Self.composeFile, "--env-names", "NOT-A-NAME"])
        #expect(bad.status != 0 && bad.err.contains("not an environment variable name"))

        let logs = try await enclave(["app-compose", Self.composeFile, "--public-logs", "--no-kms"])
        let changed = try JSONDecoder().decode(JSONValue.self, from: Data(logs.out.utf8))
        #expect(changed["public_logs"] == .bool(true) && changed["kms_enabled"] == .bool(false))
    }

    @Test("compose-hash hashes the bytes as they are and refuses a missing file")
    func composeHash() async throws {
        let file = NSTemporaryDirectory() + "bytes-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data("{}\n".utf8).write(to: URL(fileURLWithPath: file))
        #expect(try await enclave(["compose-hash", file]).out == ComposeHash.of(Array("{}\n".utf8)).hexString + "\n")
        let missing = try await enclave(["compose-hash", file + ".missing"])
        #expect(missing.status != 0 && missing.err.contains("cannot read"))
    }
}
