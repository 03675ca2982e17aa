import ArgumentParser
import Attestation
import Foundation
import Gateway
import Hummingbird
import Logging
import ServiceLifecycle
import Sandbox
import Store
import Vault

/// `oauth3-enclave serve`: the daemon. Every option also comes from an environment variable (named in
/// its help), which is how a Dstack compose file configures it.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the enclave's HTTP API.")

    @Option(help: "Address to listen on ($OAUTH3_HOST; default 127.0.0.1).") var host: String?
    @Option(help: "Port ($OAUTH3_PORT; default 8787; 0 picks a free one).") var port: Int?
    @Option(help: "Data directory for the database and, in development, the vault key ($OAUTH3_DATA_DIR; default ./data).") var dataDir: String?
    @Option(help: "PostgreSQL URL postgres://user:password@host:port/database?sslmode=require|disable, for replicas sharing one database ($OAUTH3_DATABASE_URL; default: SQLite in the data directory). Prefer the variable: a command line is visible to other processes.") var database: String?
    @Option(help: "Seconds a replica's claim on a running job lasts without renewal ($OAUTH3_JOB_LEASE; default 30; PostgreSQL only).") var jobLease: Int?
    @Option(help: "URL that agents and approvers use to reach this daemon, for approval links ($OAUTH3_PUBLIC_URL).") var publicURL: String?
    @Option(help: "Jobs running at once ($OAUTH3_WORKERS; default: the number of cores).") var workers: Int?
    @Option(help: "Approved jobs waiting for a worker before /execute answers 429 ($OAUTH3_QUEUE_LIMIT; default 64).") var queueLimit: Int?
    @Option(help: "Jails prepared ahead of jobs, 0 for none ($OAUTH3_JAIL_POOL; default: the number of workers).") var jailPool: Int?
    @Flag(help: "Never start Deno in a prepared jail before its job ($OAUTH3_JAIL_BOOT=off): about 30 MiB less per booted jail, and every job pays Deno's start.") var noJailBoot = false
    @Option(help: "MiB of warm Deno caches for code that has run before, 0 for none ($OAUTH3_DENO_CACHE_MIB; default 256).") var denoCacheMib: Int?
    @Option(help: "File holding the orchestrator's HS256 JWT secret ($OAUTH3_JWT_SECRET_FILE, or the secret itself in $OAUTH3_JWT_SECRET).") var jwtSecretFile: String?
    @Option(help: "Seconds: how far ahead of now an orchestrator JWT's exp may be ($OAUTH3_JWT_MAX_LIFETIME; default 86400).") var jwtMaxLifetime: Int?
    @Flag(help: "Refuse POST /signup ($OAUTH3_SIGNUP=closed).") var closedSignup = false
    @Flag(help: "Seal secrets with a key file in the data directory instead of the guest agent's GetKey (development only).") var dev = false
    @OptionGroup var guestAgent: GuestAgentOptions
    @OptionGroup var installation: Installation.Options
    @OptionGroup var limits: LimitOptions

    func validate() throws {
        if let jwtMaxLifetime, jwtMaxLifetime < 1 {
            throw ValidationError("--jwt-max-lifetime \(jwtMaxLifetime) is not a positive number of seconds")
        }
        if let jobLease, jobLease < 1 { throw ValidationError("--job-lease \(jobLease) is not a positive number of seconds") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        func variable(_ name: ServeEnvironment) -> String? { name.value(in: environment) }
        var logger = Logger(label: "oauth3-enclave")
        logger.logLevel = try variable(.logLevel).map { text in
            guard let level = Logger.Level(rawValue: text) else { throw ValidationError("\(ServeEnvironment.logLevel.rawValue) '\(text)' is not a log level") }
            return level
        } ?? .info
        // Checked before anything starts, so a bad value fails at once rather than after the probes.
        let jwtMaxLifetimeSeconds = try jwtMaxLifetime ?? Self.count(.jwtMaxLifetime, variable(.jwtMaxLifetime)) ?? 24 * 3600

        let located = try Installation.locate(installation)
        let policy = try PolicySet.load(from: located.policyDirectory)
        let workerCount = try workers ?? Self.count(.workers, variable(.workers)) ?? ProcessInfo.processInfo.activeProcessorCount
        var sandbox = try located.sandboxConfiguration(installation, policy: policy)
        let poolSize = try jailPool ?? variable(.jailPool).map { text in
            guard let value = Int(text), value >= 0 else { throw ValidationError("\(ServeEnvironment.jailPool.rawValue) '\(text)' is not a count") }
            return value
        } ?? workerCount
        guard poolSize >= 0 else { throw ValidationError("--jail-pool \(poolSize) is negative") }
        let boots: Bool
        switch variable(.jailBoot) {
        case nil, "on": boots = !noJailBoot
        case "off": boots = false
        case let text?: throw ValidationError("\(ServeEnvironment.jailBoot.rawValue) '\(text)' is not on or off")
        }
        sandbox.pool = JailPoolConfiguration(size: poolSize, boots: boots)
        let data = dataDir ?? variable(.dataDirectory) ?? "data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // Warm Deno caches for code that has run before (docs/sandbox.md), rebuilt after every start.
        let cacheMiB = try denoCacheMib ?? variable(.denoCacheMiB).map { text in
            guard let value = Int(text), value >= 0 else { throw ValidationError("\(ServeEnvironment.denoCacheMiB.rawValue) '\(text)' is not a count") }
            return value
        } ?? 256
        guard cacheMiB >= 0 else { throw ValidationError("--deno-cache-mib \(cacheMiB) is negative") }
        if cacheMiB > 0 {
            sandbox.denoCacheDirectory = data + "/deno-cache"
            sandbox.denoCacheMaximumBytes = cacheMiB << 20
        } else {
            try? FileManager.default.removeItem(atPath: data + "/deno-cache")
        }
        let runner = try await SkillRunner(configuration: sandbox)

        let store = try await openStore(data: data, environment: environment, logger: logger)
        let (agent, development) = try await guestAgent.start(dataDirectory: data, logger: logger)
        let attestor = try await Attestor(agent: agent)
        let vault = dev
            ? try await Vault(provider: KeyFileProvider(path: data + "/vault.key"))
            : try await Vault(provider: GuestAgentKeyProvider(agent: agent))

        let bindHost = host ?? variable(.host) ?? "127.0.0.1"
        let bindPort = try port ?? variable(.port).map { text in
            guard let value = Int(text), (0...65535).contains(value) else { throw ValidationError("\(ServeEnvironment.port.rawValue) '\(text)' is not a port") }
            return value
        } ?? 8787
        var jwtSecret = variable(.jwtSecret)
        if let file = jwtSecretFile ?? variable(.jwtSecretFile) {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ValidationError("cannot read the JWT secret file \(file)") }
            jwtSecret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let secret = jwtSecret, secret.utf8.count < 32 {
            throw ValidationError("the JWT secret must be at least 32 bytes")
        }
        let signup = variable(.signup) ?? "open"
        guard ["open", "closed"].contains(signup) else { throw ValidationError("\(ServeEnvironment.signup.rawValue) must be open or closed, not '\(signup)'") }
        var configuration = GatewayConfiguration(
            host: bindHost, port: bindPort, publicURL: publicURL ?? variable(.publicURL),
            workers: workerCount,
            queueLimit: try queueLimit ?? Self.count(.queueLimit, variable(.queueLimit)) ?? 64, jwtSecret: jwtSecret,
            signupOpen: !(closedSignup || signup == "closed"),
            jwtMaxLifetimeSeconds: jwtMaxLifetimeSeconds)
        try limits.apply(to: &configuration, environment: environment)
        let wantedConnections = configuration.maxConnections
        let descriptors = DescriptorLimit.raise(toHold: wantedConnections, workers: configuration.workers)
        configuration.maxConnections = descriptors.connections
        if descriptors.connections < wantedConnections {
            logger.warning("the descriptor limit holds fewer connections than configured", metadata: [
                "max_connections": "\(descriptors.connections)", "configured": "\(wantedConnections)", "nofile": "\(descriptors.soft)"])
        }
        let announced = configuration.publicURL
        let log = logger

        let parts = try await Gateway.make(configuration: configuration, store: store, vault: vault, runner: runner, attestor: attestor, logger: logger) { [configuration] port in
            log.info("listening", metadata: [
                "address": "\(bindHost):\(port)", "public_url": "\(bindPort == 0 ? "http://\(bindHost):\(port)" : announced)",
                "user_namespace": "\(runner.host.userNamespace)", "cgroups": "\(runner.host.cgroups?.version.rawValue ?? "none")",
                "vault_key": "\(vault.keySource)", "deno": "\(runner.denoVersion)", "guest_agent": "\(agent.name)",
                "app_id": "\(attestor.info.appID)", "compose_hash": "\(attestor.info.composeHash)",
                "max_connections": "\(configuration.maxConnections)", "nofile": "\(descriptors.soft)",
            ])
        }
        try await parts.runService(logger: logger)
        await development?.triggerGracefulShutdown()
    }

    /// The PostgreSQL store when a database URL is given (its password never logged), else SQLite in `data`.
    private func openStore(data: String, environment: [String: String], logger: Logger) async throws -> any EnclaveStore {
        guard let text = database ?? ServeEnvironment.databaseURL.value(in: environment) else {
            return try Store.open(path: data + "/enclave.sqlite")
        }
        let url: DatabaseURL
        do { url = try DatabaseURL(text) } catch { throw ValidationError("\(ServeEnvironment.databaseURL.rawValue) / --database: \(error)") }
        let leaseSeconds = try jobLease ?? Self.count(.jobLease, ServeEnvironment.jobLease.value(in: environment)) ?? 30
        let store: PostgresStore
        do {
            store = try await PostgresStore.connect(url, lease: .seconds(leaseSeconds), logger: logger)
        } catch {
            // PostgresNIO's own description hides everything; its reflection names the cause (never the URL's password).
            throw ValidationError("cannot open the database \(url): \(String(reflecting: error))")
        }
        logger.info("database", metadata: ["url": "\(url)", "replica": "\(store.replica)", "job_lease_seconds": "\(leaseSeconds)"])
        return store
    }

    /// A positive count from a variable, or `nil` when it is unset.
    private static func count(_ name: ServeEnvironment, _ text: String?) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text), value > 0 else { throw ValidationError("\(name.rawValue) '\(text)' is not a positive number") }
        return value
    }
}
