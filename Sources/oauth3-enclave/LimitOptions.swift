import ArgumentParser
import Gateway

/// The daemon's per-tenant quotas, fairness and connection limits: each a flag, or its environment
/// variable (named in ``ServeEnvironment``); the flag wins, and a malformed value is refused, not ignored.
struct LimitOptions: ParsableArguments {
    @Option(help: "Jobs one tenant may run at once while another tenant has work ($OAUTH3_TENANT_MAX_RUNNING; default: workers - 1, at least 1).")
    var tenantMaxRunning: Int?
    @Option(help: "Requests one tenant may have waiting for a person ($OAUTH3_QUOTA_PENDING; default 100).")
    var quotaPending: Int?
    @Option(help: "Jobs one tenant may have queued or running ($OAUTH3_QUOTA_ACTIVE_JOBS; default 16).")
    var quotaActiveJobs: Int?
    @Option(help: "Long-polls one tenant may hold open ($OAUTH3_QUOTA_LONG_POLLS; default 32).")
    var quotaLongPolls: Int?
    @Option(help: "Bytes of code and results one tenant may keep ($OAUTH3_QUOTA_STORED_BYTES; default 268435456).")
    var quotaStoredBytes: Int?
    @Option(help: "Seconds an approval link and its request stay valid before they expire and are purged ($OAUTH3_REQUEST_TTL; default 86400).")
    var requestTTL: Int?
    @Option(help: "Seconds a finished job keeps its code and result ($OAUTH3_RESULT_RETENTION; default 2592000).")
    var resultRetention: Int?
    @Option(help: "Seconds a connection may wait for a request head or sit idle ($OAUTH3_IDLE_TIMEOUT; default 15).")
    var idleTimeout: Int?
    @Option(help: "Open HTTP connections at most ($OAUTH3_MAX_CONNECTIONS; default 4096).")
    var maxConnections: Int?

    /// Applies what is set, from flags first and then `environment`, over `configuration`'s defaults.
    func apply(to configuration: inout GatewayConfiguration, environment: [String: String]) throws {
        func value(_ flag: Int?, _ name: ServeEnvironment) throws -> Int? {
            if let flag {
                guard flag > 0 else { throw ValidationError("--\(name.flagName) must be a positive number, not \(flag)") }
                return flag
            }
            guard let text = name.value(in: environment) else { return nil }
            guard let number = Int(text), number > 0 else { throw ValidationError("\(name.rawValue) '\(text)' is not a positive number") }
            return number
        }
        if let cap = try value(tenantMaxRunning, .tenantMaxRunning) { configuration.tenantMaxRunning = cap }
        if let count = try value(quotaPending, .quotaPending) { configuration.quotas.pendingRequests = count }
        if let count = try value(quotaActiveJobs, .quotaActiveJobs) { configuration.quotas.activeJobs = count }
        if let count = try value(quotaLongPolls, .quotaLongPolls) { configuration.quotas.longPolls = count }
        if let bytes = try value(quotaStoredBytes, .quotaStoredBytes) { configuration.quotas.storedBytes = bytes }
        if let seconds = try value(requestTTL, .requestTTL) { configuration.approvalTokenLifetimeSeconds = seconds }
        if let seconds = try value(resultRetention, .resultRetention) { configuration.resultRetentionSeconds = seconds }
        if let seconds = try value(idleTimeout, .idleTimeout) { configuration.idleTimeoutSeconds = seconds }
        if let count = try value(maxConnections, .maxConnections) {
            guard count >= 16 else { throw ValidationError("\(ServeEnvironment.maxConnections.rawValue) must be at least 16") }
            configuration.maxConnections = count
        }
    }
}

extension ServeEnvironment {
    /// The flag of the same meaning, without its dashes (`…_QUOTA_PENDING` → `quota-pending`).
    var flagName: String {
        rawValue.split(separator: "_").dropFirst().joined(separator: "-").lowercased()
    }
}
