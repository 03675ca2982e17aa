import ArgumentParser
import Foundation
import OAuth3Client
import OAuth3Wire

/// `oauth3`: the agent's command line, with the commands, flags, output and exit codes of the SDK's
/// CLI (oauth3-skill v0.2.0): approval links on stderr (`👉 Approve: URL`), the final JSON on stdout;
/// `execute`, `scope-and-execute` and `poll` exit 0 only when the status is `completed`, `status` exits 0
/// for any status it could read, and a failed call exits 1 with the enclave's message.
@main
struct OAuth3Command: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oauth3",
        abstract: "Run skills in an OAuth3 enclave: ask a human once, never see the secrets.",
        subcommands: [ScopeAndExecute.self, Execute.self, Poll.self, Status.self, Signup.self, Secrets.self, Enclave.self])

    /// ArgumentParser's own `main`, with the HTTP client shut down before the process exits.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            await HTTPTransport.shutdown()
        } catch {
            await HTTPTransport.shutdown()
            exit(withError: error)
        }
    }
}

/// Where the enclave is and who we are.
struct Connection: ParsableArguments {
    @Option(help: "The enclave's URL (default: $OAUTH3_URL, then http://127.0.0.1:8787).")
    var url: String?
    @Option(help: "API key (default: $OAUTH3_API_KEY, then ~/.oauth3/key, then an automatic signup saved there).")
    var key: String?

    var baseURL: URL {
        get throws {
            let text = url ?? ProcessInfo.processInfo.environment["OAUTH3_URL"] ?? "http://127.0.0.1:8787"
            guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https" else {
                throw ValidationError("--url '\(text)' is not an http(s) URL")
            }
            return url
        }
    }

    /// A client with a key, signing up (and saving the key with mode 0600) if there is none yet.
    func client() async throws -> OAuth3Client {
        let base = try baseURL
        if let key = key ?? ProcessInfo.processInfo.environment["OAUTH3_API_KEY"] { return OAuth3Client(baseURL: base, apiKey: key) }
        if let saved = try? String(contentsOf: KeyFile.url, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !saved.isEmpty {
            return OAuth3Client(baseURL: base, apiKey: saved)
        }
        let account = try await OAuth3Client(baseURL: base, apiKey: nil).signup(name: "agent")
        try KeyFile.save(account.apiKey)
        FileHandle.standardError.write(Data("🔑 Signed up as \(account.tenantId); key saved to \(KeyFile.url.path)\n".utf8))
        return OAuth3Client(baseURL: base, apiKey: account.apiKey)
    }
}

/// `~/.oauth3/key`, written 0600 in a 0700 directory.
enum KeyFile {
    static var url: URL {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".oauth3/key")
    }

    static func save(_ key: String) throws {
        let directory = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw ValidationError("cannot write \(url.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        fchmod(fd, 0o600)
        let line = key + "\n"
        _ = line.withCString { write(fd, $0, strlen($0)) }
    }
}

/// Output helpers shared by the commands.
enum Output {
    static func note(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

    /// Prints the final JSON on one line and exits 0 only for `completed`. A job that waits for secrets
    /// also gets a note on stderr saying how to supply them.
    static func finish(_ status: ExecutionStatus) async -> Never {
        printJSON(status)
        if status.status == "awaiting_secrets" { note(secretsHint(status)) }
        await exit(status.status == "completed" ? 0 : 1)
    }

    /// The status as one line of JSON on stdout.
    static func printJSON(_ status: ExecutionStatus) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        print(String(decoding: (try? encoder.encode(status)) ?? Data("{}".utf8), as: UTF8.self))
    }

    /// Ends the process once the HTTP client is shut down.
    static func exit(_ code: Int32) async -> Never {
        await HTTPTransport.shutdown()
        Foundation.exit(code)
    }

    /// What to do about `awaiting_secrets`: the approval page asks for the values, or the CLI stores them.
    static func secretsHint(_ status: ExecutionStatus) -> String {
        let names = status.missingSecrets ?? []
        let listed = names.isEmpty ? "the secrets the skill declares" : names.joined(separator: ", ")
        var lines = ["🔑 Approved, but waiting for \(listed): the enclave has no value yet. Supply it:"]
        if let url = status.approvalUrl { lines.append("   - in the browser: \(url) asks for each missing value, or") }
        for name in names.isEmpty ? ["NAME"] : names {
            lines.append("   - here: printf '%s' \"$VALUE\" | oauth3 secrets set \(name)   (the value on stdin, never on the command line)")
        }
        lines.append("   The job starts by itself once every value is stored; then: oauth3 poll \(status.requestId)")
        return lines.joined(separator: "\n")
    }

    static func readFile(_ path: String, what: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(what) file \(path)") }
        return String(decoding: data, as: UTF8.self)
    }

    /// `--skill-id`, or the code file's name without `.ts`.
    static func skillId(_ explicit: String?, code path: String) -> String {
        explicit ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    }
}
