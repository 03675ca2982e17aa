import Foundation
import OAuth3Wire
import Sandbox
import SkillManifest
import TestSupport
import Testing

/// The two modes every escape runs in.
///
/// - realistic: the flags a skill really gets (its manifest's permissions, everything else denied).
/// - layers-only: Deno's own permission checks switched off (`--allow-all`), so only the OS layers
///   (namespaces, minimal root, cgroup, rlimits, identity, capabilities, seccomp) stand in the way.
enum EscapeMode: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case realistic
    case layersOnly = "layers-only"

    var testDescription: String { rawValue }

    /// A runner in this mode, with `adjust` applied to the limits.
    func runner(adjust: (inout SandboxLimits) -> Void = { _ in }) async throws -> SkillRunner {
        let configuration = try Fixture.configuration {
            $0.unsafeOpenDenoPermissions = self == .layersOnly
            adjust(&$0.policy.limits)
        }
        return try await SkillRunner(configuration: configuration)
    }

    /// Runs `source` in this mode.
    func run(
        _ source: String, secrets: [String: String] = [:], adjust: (inout SandboxLimits) -> Void = { _ in }
    ) async throws -> RunResult {
        try await Fixture.run(source, secrets: secrets, runner: runner(adjust: adjust))
    }

    /// What a refused call prints in this mode, for scripts that print `e.name` of what they caught:
    /// Deno's permission error in the realistic mode, otherwise whatever the OS layer made Deno throw.
    var isRealistic: Bool { self == .realistic }
}

/// Lines of stdout.
func lines(_ result: RunResult) -> [String] { result.stdout.split(separator: "\n").map(String.init) }
