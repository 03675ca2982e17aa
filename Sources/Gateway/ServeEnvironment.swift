/// Every environment variable `oauth3-enclave serve` reads, and the one place their names are spelled.
///
/// A Dstack deployment configures the daemon only through these (its compose file sets them), so the
/// deployment check (`Tests/DeployTests`) compares the compose file and the Dockerfile against
/// `allCases`: a misspelt or retired name there fails `make test` instead of being silently ignored.
/// Each variable has a command-line flag of the same meaning; the flag wins.
public enum ServeEnvironment: String, CaseIterable, Sendable {
    /// Address to listen on (`--host`; default 127.0.0.1).
    case host = "OAUTH3_HOST"
    /// Port (`--port`; default 8787).
    case port = "OAUTH3_PORT"
    /// Data directory: the database, and in development the vault key (`--data-dir`; default `data`).
    case dataDirectory = "OAUTH3_DATA_DIR"
    /// Base URL of approval and status links, as agents and approvers reach the daemon (`--public-url`).
    case publicURL = "OAUTH3_PUBLIC_URL"
    /// Jobs running at once (`--workers`; default: the number of cores).
    case workers = "OAUTH3_WORKERS"
    /// Jails kept prepared ahead of jobs, 0 for none (`--jail-pool`; default: the number of workers).
    case jailPool = "OAUTH3_JAIL_POOL"
    /// `on` (the default) or `off`: whether prepared jails start Deno before their job, for the shapes jobs
    /// used (`--no-jail-boot`; docs/sandbox.md, "Booted jails").
    case jailBoot = "OAUTH3_JAIL_BOOT"
    /// MiB that warm Deno caches for code that has run before may hold in the data directory, 0 for none
    /// (`--deno-cache-mib`; default 256).
    case denoCacheMiB = "OAUTH3_DENO_CACHE_MIB"
    /// Approved jobs waiting before `POST /execute` answers 429 (`--queue-limit`; default 64).
    case queueLimit = "OAUTH3_QUEUE_LIMIT"
    /// The orchestrator's HS256 JWT secret itself, at least 32 bytes.
    case jwtSecret = "OAUTH3_JWT_SECRET"
    /// A file holding the orchestrator's JWT secret (`--jwt-secret-file`).
    case jwtSecretFile = "OAUTH3_JWT_SECRET_FILE"
    /// `open` (the default) or `closed`: whether `POST /signup` creates tenants (`--closed-signup`).
    case signup = "OAUTH3_SIGNUP"
    /// `trace`, `debug`, `info` (the default), `notice`, `warning`, `error` or `critical`.
    case logLevel = "OAUTH3_LOG_LEVEL"
    /// The guest agent's unix socket (`--guest-agent-socket`; default `/var/run/dstack.sock` when present).
    case guestAgentSocket = "OAUTH3_GUEST_AGENT_SOCKET"
    /// The Deno binary (`--deno`).
    case deno = "OAUTH3_DENO"
    /// The `oauth3-jail` binary (`--jail`).
    case jail = "OAUTH3_JAIL"
    /// The policy directory (`--policies`).
    case policies = "OAUTH3_POLICIES"
    /// Where per-job directories are made (`--work-dir`).
    case workDirectory = "OAUTH3_WORK_DIR"
    /// `automatic` (the default), `required` or `unsafe-disabled`: user namespaces for jobs (`--user-namespace`).
    case userNamespace = "OAUTH3_USER_NAMESPACE"
    /// A PEM file of extra CA certificates the egress proxy trusts, besides the system's roots, when it re-originates
    /// TLS for a job holding bound secrets (`--egress-extra-ca`; default none).
    case egressExtraCA = "OAUTH3_EGRESS_EXTRA_CA"
    /// Jobs one tenant may run at once while another tenant has work (`--tenant-max-running`; default: workers − 1, at least 1).
    case tenantMaxRunning = "OAUTH3_TENANT_MAX_RUNNING"
    /// Requests one tenant may have waiting for a person (`--quota-pending`; default 100).
    case quotaPending = "OAUTH3_QUOTA_PENDING"
    /// Jobs one tenant may have queued or running (`--quota-active-jobs`; default 16).
    case quotaActiveJobs = "OAUTH3_QUOTA_ACTIVE_JOBS"
    /// Long-polls (`?wait=true`) one tenant may hold open (`--quota-long-polls`; default 32).
    case quotaLongPolls = "OAUTH3_QUOTA_LONG_POLLS"
    /// Bytes of code and results one tenant may keep stored (`--quota-stored-bytes`; default 268435456).
    case quotaStoredBytes = "OAUTH3_QUOTA_STORED_BYTES"
    /// Seconds an approval link, and the request it opens, stays valid before it expires and is purged (`--request-ttl`; default 86400).
    case requestTTL = "OAUTH3_REQUEST_TTL"
    /// Seconds a finished job keeps its code and result before they are trimmed (`--result-retention`; default 2592000).
    case resultRetention = "OAUTH3_RESULT_RETENTION"
    /// Seconds a connection may stay without a request head, or idle between requests (`--idle-timeout`; default 15).
    case idleTimeout = "OAUTH3_IDLE_TIMEOUT"
    /// Open HTTP connections at most (`--max-connections`; default 4096).
    case maxConnections = "OAUTH3_MAX_CONNECTIONS"
    /// Seconds: how far ahead of now an orchestrator JWT's `exp` may be (`--jwt-max-lifetime`; default 86400).
    case jwtMaxLifetime = "OAUTH3_JWT_MAX_LIFETIME"

    /// A PostgreSQL URL (`postgres://user:password@host:port/database?sslmode=require`) for replicas sharing one
    /// database (`--database`; default: SQLite in the data directory). Its password is never logged.
    case databaseURL = "OAUTH3_DATABASE_URL"
    /// Seconds a replica's claim on a running job lasts without renewal; a job whose replica died is recorded
    /// interrupted after it (`--job-lease`; default 30; PostgreSQL only).
    case jobLease = "OAUTH3_JOB_LEASE"

    /// The variable's value in `environment`; an empty value counts as unset, so a compose file's
    /// `${NAME:-}` for a variable the operator did not supply means "not configured".
    public func value(in environment: [String: String]) -> String? {
        guard let value = environment[rawValue], !value.isEmpty else { return nil }
        return value
    }
}
