import ArgumentParser
import DCAPVerifier
import Foundation

/// `oauth3-enclave app-compose dstack/docker-compose.yml [--env-names …]`: the app-compose.json dstack
/// measures for a compose file, so the expected compose hash follows from the repository alone.
///
/// The bytes go to standard output (or `--output`) exactly as they must be deployed, without a trailing
/// newline; the compose hash goes to standard error. The defaults are this project's deployment
/// (dstack/DEPLOY.md): KMS and gateway on, container logs private, system information public.
struct AppComposeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app-compose",
        abstract: "Write the app-compose.json dstack measures for a docker-compose file (its hash on stderr).",
        discussion: """
            Every option is part of the measured file: an auditor must use the same ones as the operator. \
            allowed_envs defaults to the variables the compose file interpolates ($NAME, ${NAME:-…}), sorted.
            """)
    @Argument(help: "The docker-compose file (embedded verbatim).") var composeFile: String
    @Option(help: "The application's name.") var name = "oauth3-enclave"
    @Option(help: "Variables the encrypted environment may set, comma-separated, in order (repeatable). Default: those the compose file interpolates, sorted.")
    var envNames: [String] = []
    @Flag(inversion: .prefixedNo, help: "Take keys from dstack's KMS (the vault key then survives a new CVM of the same app).") var kms = true
    @Flag(inversion: .prefixedNo, help: "Route through dstack's gateway, which terminates TLS.") var gateway = true
    @Flag(inversion: .prefixedNo, help: "Make the CVM's container logs readable without authentication (they name tenants and jobs).") var publicLogs = false
    @Flag(inversion: .prefixedNo, help: "Make the CVM's system information readable without authentication.") var publicSysinfo = true
    @Flag(inversion: .prefixedNo, help: "Give each CVM instance its own instance id.") var instanceId = true
    @Flag(help: "Wait for a trusted time source before starting.") var secureTime = false
    @Flag(help: "Take keys from a local (SGX) key provider instead of the KMS.") var localKeyProvider = false
    @Option(help: "The key provider's kind (kms, local, …); left out when not given.") var keyProvider: String?
    @Option(help: "The key provider's id, hex.") var keyProviderId = ""
    @Option(help: "A script dstack runs before docker compose (embedded verbatim).") var preLaunchScript: String?
    @Option(name: .shortAndLong, help: "Write the app-compose.json here instead of to standard output.") var output: String?

    func run() throws {
        let compose = try Self.readText(composeFile)
        let referenced = AppCompose.referencedVariables(in: compose)
        var allowed = referenced
        if !envNames.isEmpty {
            allowed = envNames.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
            for name in allowed where name.range(of: #"^[A-Za-z_][A-Za-z0-9_]*$"#, options: .regularExpression) == nil {
                throw ValidationError("'\(name)' is not an environment variable name")
            }
            for name in referenced where !allowed.contains(name) {
                Self.warn("warning: \(composeFile) interpolates $\(name), which is not in --env-names: dstack will leave it empty")
            }
        }
        let manifest = AppCompose(
            name: name, dockerComposeFile: compose, allowedEnvs: allowed, kmsEnabled: kms, gatewayEnabled: gateway,
            localKeyProviderEnabled: localKeyProvider, keyProviderID: keyProviderId, keyProvider: keyProvider, publicLogs: publicLogs,
            publicSysinfo: publicSysinfo, noInstanceID: !instanceId, secureTime: secureTime, preLaunchScript: try preLaunchScript.map(Self.readText))
        let bytes = Data(manifest.encoded)
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: bytes) else { throw ValidationError("cannot write \(output)") }
        } else {
            FileHandle.standardOutput.write(bytes)
        }
        Self.warn("compose hash: \(manifest.composeHash.hexString)")
    }

    /// A file's text, refusing what is not UTF-8 (dstack embeds it as a JSON string); a BOM is kept.
    static func readText(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        guard let text = String(validating: Array(data), as: UTF8.self) else { throw ValidationError("\(path) is not UTF-8") }
        return text
    }

    static func warn(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
