import Subprocess
import SystemPackage

/// Reads the version of the Deno binary, for results (`deno_version`).
enum DenoVersion {
    /// Runs `deno --version` and returns the first line's version (`2.9.8`).
    static func read(denoPath: String) async throws(SandboxError) -> String {
        let output: String
        do {
            let result = try await Subprocess.run(
                .path(FilePath(denoPath)), arguments: ["--version"], environment: .custom([[UInt8]]()),
                output: .string(limit: 4096))
            output = result.standardOutput
        } catch {
            throw .denoVersion("cannot run \(denoPath) --version: \(error)")
        }
        let first = output.split(separator: "\n").first ?? ""
        let words = first.split(separator: " ")
        guard words.count >= 2, words[0] == "deno" else {
            throw .denoVersion("\(denoPath) --version printed '\(first)', not a Deno version")
        }
        return String(words[1])
    }
}
