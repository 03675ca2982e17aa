import ArgumentParser
import Foundation
import OAuth3Wire
import Sandbox
import SkillManifest

/// `oauth3-enclave run SKILL.ts`: runs one skill locally, without the API, and prints its result as JSON.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one skill in the sandbox and print the result as JSON.",
        discussion: "Exits 0 only when the outcome is `ok`, 1 when the skill ran and failed, 2 when it could not run."
    )

    @Argument(help: "The skill's TypeScript source.")
    var skill: String

    @Option(name: .customLong("secret"), help: "NAME=VALUE, or NAME to take the value from this environment. Repeatable.")
    var secrets: [String] = []

    @Option(help: "File of secrets: a JSON object, or NAME=VALUE lines.")
    var secretsFile: String?

    @Option(help: "Wall-clock limit in seconds, instead of the header's @timeout (at most the policy maximum).")
    var timeout: Int?

    @Flag(help: "Print the manifest, the granted permissions and the exact Deno command, without running.")
    var explain = false

    @Flag(help: "Print to stderr where the time went: this command's own start, the jail, Deno, the rest.")
    var timings = false

    @OptionGroup var installation: Installation.Options

    func run() async throws {
        let started = ContinuousClock.now
        let located = try Installation.locate(installation)
        let policy = try PolicySet.load(from: located.policyDirectory)
        guard let source = FileManager.default.contents(atPath: skill) else {
            throw ValidationError("cannot read the skill file \(skill)")
        }
        let manifest: SkillManifest
        do {
            manifest = try SkillManifest.parse(source, configuration: policy.manifest)
        } catch {
            FileHandle.standardError.write(Data("\(skill): \(error)\n".utf8))
            throw ExitCode(2)
        }
        if let timeout, !(1...policy.manifest.maxTimeoutSeconds).contains(timeout) {
            throw ValidationError("--timeout \(timeout) is outside 1…\(policy.manifest.maxTimeoutSeconds) s (the policy maximum)")
        }
        let grant = SecretGrant(manifest: manifest, provided: try SecretsInput.collect(flags: secrets, file: secretsFile))
        // The skill cannot run: exit 2, as a bad header does (docs/skills.md), not ArgumentParser's usage code.
        guard grant.missing.isEmpty else {
            FileHandle.standardError.write(Data(
                "\(skill): the skill declares @secrets with no value given: \(grant.missing.map(\.rawValue).joined(separator: ", ")) (use --secret NAME=VALUE, --secret NAME, or --secrets-file)\n".utf8))
            throw ExitCode(2)
        }
        guard grant.malformed.isEmpty else {
            FileHandle.standardError.write(Data("\(skill): secret values cannot contain NUL bytes: \(grant.malformed.map(\.rawValue).joined(separator: ", "))\n".utf8))
            throw ExitCode(2)
        }
        let job = SkillJob(
            source: Array(source), manifest: manifest, secrets: grant.granted, timeoutSeconds: timeout, warnings: grant.warnings)
        let sandbox = try located.sandboxConfiguration(installation, policy: policy)
        // No pool (one job), and the machine's inspection remembered for this boot in the work root.
        let runner = try await SkillRunner(configuration: sandbox, hostCache: sandbox.workRoot)
        let ready = ContinuousClock.now

        if explain {
            print(Explanation(runner: runner, job: job).text)
            return
        }
        let (result, steps) = try await runner.runTimed(job)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(result), as: UTF8.self))
        if timings {
            func ms(_ duration: Duration) -> String {
                String(format: "%.1f ms", Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15)
            }
            FileHandle.standardError.write(Data("""
                start (policy, skill, host inspection): \(ms(started.duration(to: ready)))
                jail start: \(ms(steps.jail)); jail setup + Deno: \(ms(steps.jobRun)); cleanup: \(ms(steps.cleanup)); classify + redact: \(ms(steps.classify))
                total: \(ms(started.duration(to: .now)))

                """.utf8))
        }
        if !result.success { throw ExitCode(result.outcome == .sandboxError ? 2 : 1) }
    }
}
