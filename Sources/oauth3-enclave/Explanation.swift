import Foundation
import JailPlan
import OAuth3Wire
import Sandbox
import SkillManifest

/// The text of `run --explain`: what the skill declares, what it is granted, and the exact commands,
/// with secret values masked.
struct Explanation {
    let runner: SkillRunner
    let job: SkillJob

    var text: String {
        let manifest = job.manifest
        let directory = JobDirectory.Paths(root: "\(runner.configuration.workRoot)/job-<id>")
        let (deno, jail) = runner.plan(job, in: directory)
        let masked = Set(deno.secretNames)
        var egress = "none: loopback alone"
        if let bridge = jail.egressBridge {
            egress = "only through the job's proxy (bridge 127.0.0.1:\(bridge.port) -> \(bridge.socketPath)); names by \(runner.resolver)"
        }
        var lines = [
            "skill:        \(manifest.skill)",
            "description:  \(manifest.description ?? "(none)")",
            "timeout:      \(runner.timeoutSeconds(for: job)) s (header: \(manifest.timeoutSeconds) s)",
            "network:      " + (manifest.network.isEmpty ? "none" : manifest.network.map(\.description).joined(separator: ", ")),
            "egress:       \(egress)",
            "secrets:      " + (deno.secretNames.isEmpty ? "none" : deno.secretNames.joined(separator: ", ")),
            "deno:         \(runner.denoVersion) at \(runner.configuration.denoPath)",
            "policy:       sha256 \(runner.configuration.policy.sha256)",
        ]
        lines += job.warnings.map { "warning:      \($0)" }
        lines.append("")
        lines.append("Deno's environment (nothing else is passed; it reaches Deno only at execve):")
        lines += deno.environment.map { "  \($0.name)=" + (masked.contains($0.name) ? "****" : $0.value) }
        lines.append("")
        lines.append("command (started with an empty environment; stdin carries the environment above, then the skill's source;")
        lines.append("the runner starts the same jail with --prepared and hands it --rlimit, --egress-bridge and Deno's arguments on stdin):")
        lines.append("  " + ([runner.configuration.jailPath] + jail.encoded()).map(Self.quoted).joined(separator: " "))
        return lines.joined(separator: "\n")
    }

    /// Shell-quotes an argument when it needs it.
    static func quoted(_ argument: String) -> String {
        let safe = argument.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }
        return safe && !argument.isEmpty ? argument : "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
