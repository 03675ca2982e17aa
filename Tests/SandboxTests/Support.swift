import Foundation
@testable import Sandbox
import SkillManifest
import Testing

/// Paths of the real programs the tests run: Deno from `make setup`, the binaries built with the tests.
enum Fixture {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let buildDirectory = URL(fileURLWithPath: try! FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        .deletingLastPathComponent()
    static let deno = ProcessInfo.processInfo.environment["OAUTH3_DENO"]
        ?? repository.appendingPathComponent(".tools/deno/bin/deno").path
    static let jail = buildDirectory.appendingPathComponent("oauth3-jail").path
    static let enclave = buildDirectory.appendingPathComponent("oauth3-enclave").path
    static let policies = repository.appendingPathComponent("policies").path

    /// A fresh, empty work root for one test.
    static func workRoot() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("oauth3-test-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A runner over the repository's policies, with `adjust` applied to its limits.
    static func runner(workRoot: String = workRoot(), adjust: (inout SandboxLimits) -> Void = { _ in }) async throws -> SkillRunner {
        #expect(FileManager.default.isExecutableFile(atPath: deno), "Deno missing at \(deno): run `make setup`")
        var policy = try PolicySet.load(from: policies)
        adjust(&policy.limits)
        return try await SkillRunner(
            configuration: SandboxConfiguration(denoPath: deno, jailPath: jail, workRoot: workRoot, policy: policy))
    }

    /// Parses `source` and runs it with `secrets`.
    static func run(
        _ source: String, secrets: [String: String] = [:], timeout: Int? = nil, runner: SkillRunner? = nil
    ) async throws -> RunResult {
        let manifest = try SkillManifest.parse(source)
        let grant = SecretGrant(manifest: manifest, provided: secrets)
        let runner = if let runner { runner } else { try await Fixture.runner() }
        return try await runner.run(
            SkillJob(source: Array(source.utf8), manifest: manifest, secrets: grant.granted, timeoutSeconds: timeout, warnings: grant.warnings))
    }

    /// Pids of live processes whose environment contains `marker` (the tests put one in a secret).
    static func processes(withEnvironmentContaining marker: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            return data.range(of: Data(marker.utf8)) != nil
        }
    }
}
