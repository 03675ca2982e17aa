import Foundation
import OAuth3Wire
@testable import Sandbox
import SkillManifest
import TestSupport
import Testing

/// The modes every escape runs in: two permission modes, each in a jail started for the job and in a booted
/// one (Deno started before the job arrived, ``BootShape``), whose layers must hold the same.
///
/// - realistic: the flags a skill really gets (its manifest's permissions, everything else denied).
/// - layers-only: Deno's own permission checks switched off (`--allow-all`), so only the OS layers
///   (namespaces, minimal root, cgroup, rlimits, identity, capabilities, seccomp) stand in the way.
/// - booted, booted layers-only: the same, in a booted jail of the job's shape, prepared just before it.
enum EscapeMode: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case realistic
    case layersOnly = "layers-only"
    case booted
    case bootedLayersOnly = "booted layers-only"

    var testDescription: String { rawValue }

    /// Whether Deno's own permission checks are off (`--allow-all`).
    var opensDeno: Bool { self == .layersOnly || self == .bootedLayersOnly }
    /// Whether the job runs in a booted jail.
    var isBooted: Bool { self == .booted || self == .bootedLayersOnly }

    /// Applies this mode to a sandbox configuration: Deno's permissions, and a pool that boots.
    func configure(_ configuration: inout SandboxConfiguration) {
        configuration.unsafeOpenDenoPermissions = opensDeno
        if isBooted { configuration.pool = JailPoolConfiguration(size: 1, boots: true) }
    }

    /// A runner in this mode, with `adjust` applied to the limits.
    func runner(adjust: (inout SandboxLimits) -> Void = { _ in }) async throws -> SkillRunner {
        let configuration = try Fixture.configuration {
            configure(&$0)
            adjust(&$0.policy.limits)
        }
        return try await SkillRunner(configuration: configuration)
    }

    /// Runs `source` in this mode (on `runner`, made by ``configure(_:)``, if given). In a booted mode the job
    /// must take a jail booted for it, or the test fails: an escape that ran unbooted proves nothing about booting.
    func run(
        _ source: String, secrets: [String: String] = [:], runner: SkillRunner? = nil, adjust: (inout SandboxLimits) -> Void = { _ in }
    ) async throws -> RunResult {
        let runner = if let runner { runner } else { try await self.runner(adjust: adjust) }
        guard isBooted else { return try await Fixture.run(source, secrets: secrets, runner: runner) }
        let pool = try #require(runner.pool, "a booted mode's runner has a pool")
        let job = try Fixture.job(source, secrets: secrets)
        await pool.prepare(booting: runner.blueprint.bootShape(for: job, deno: runner.blueprint.deno(for: job)))
        #expect(await pool.awaitPrepared())
        let before = await pool.counts.bootedHits
        let result = try await Fixture.run(source, secrets: secrets, runner: runner)
        #expect(await pool.counts.bootedHits == before + 1, "the job did not run in a booted jail")
        return result
    }

    /// What a refused call prints in this mode, for scripts that print `e.name` of what they caught:
    /// Deno's permission error in the realistic mode, otherwise whatever the OS layer made Deno throw.
    var isRealistic: Bool { !opensDeno }
}

/// Lines of stdout.
func lines(_ result: RunResult) -> [String] { result.stdout.split(separator: "\n").map(String.init) }
