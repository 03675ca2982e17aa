import Foundation
import Synchronization

/// A real PostgreSQL server from Debian's packages (`initdb` and `pg_ctl` of version 15), for the tests that
/// run the stores and the daemon against PostgreSQL: its own data directory under a temporary folder,
/// loopback only, a free port, password authentication (SCRAM), one database per test.
///
/// One server per test process, started on first use and stopped (`pg_ctl stop -m fast`) when the process
/// exits. `initdb` refuses to run as root, so as root (CI) the server runs as Debian's `postgres` user.
public final class PostgresServer: Sendable {
    /// The binaries, when PostgreSQL is installed (`scripts/setup.sh` installs it).
    public static let binaries: String? = ["15", "16", "17"].map { "/usr/lib/postgresql/\($0)/bin" }
        .first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }
    /// Why the PostgreSQL tests cannot run here, or `nil` when they can.
    public static var unavailableReason: String? {
        binaries == nil ? "PostgreSQL 15 is not installed (/usr/lib/postgresql/15/bin/initdb); `make setup` installs it" : nil
    }

    public let port: Int
    public let user = "oauth3"
    /// A password with characters a URL must escape, so URL handling is exercised too.
    public let password = "pw-" + UUID().uuidString.prefix(8) + "@:/x"
    private let root: String
    private let dataDirectory: String
    private let binaries: String
    private let databases = Mutex(0)

    private static let started = Mutex<Result<PostgresServer, PostgresServerError>?>(nil)

    /// The process's server, started on first use.
    public static func shared() throws -> PostgresServer {
        try started.withLock { started in
            if let started { return try started.get() }
            let result = Result { try PostgresServer() }.mapError { $0 as? PostgresServerError ?? PostgresServerError(message: "\($0)") }
            started = result
            if case .success = result { atexit { PostgresServer.stopShared() } }
            return try result.get()
        }
    }

    private static func stopShared() {
        if case .success(let server)? = started.withLock({ $0 }) { server.stop() }
    }

    private init() throws {
        guard let binaries = Self.binaries else { throw PostgresServerError(message: Self.unavailableReason ?? "") }
        self.binaries = binaries
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("oauth3-pg-\(UUID().uuidString.prefix(8))").path
        self.root = root
        dataDirectory = root + "/data"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let passwordFile = root + "/password"
        port = try Self.freePort()
        try Data(password.utf8).write(to: URL(fileURLWithPath: passwordFile))
        if getuid() == 0 { try Self.run("/bin/chown", ["-R", "postgres:postgres", root]) }
        try runAsServerUser(binaries + "/initdb", ["-D", dataDirectory, "-U", user, "--auth=scram-sha-256", "--pwfile=" + passwordFile, "-E", "UTF8", "--no-sync"])
        try runAsServerUser(binaries + "/pg_ctl", [
            "-D", dataDirectory, "-l", root + "/server.log", "-w", "-t", "60", "start",
            "-o", "-c listen_addresses=127.0.0.1 -p \(port) -c unix_socket_directories=\(root) -c fsync=off -c max_connections=200",
        ])
    }

    /// A new, empty database; its URL (password included, percent-escaped) for `--database` or `PostgresStore`.
    public func makeDatabase() throws -> String {
        let name = "test_\(databases.withLock { $0 += 1; return $0 })_\(UUID().uuidString.prefix(6).lowercased())"
        try Self.run("/usr/bin/env", ["PGPASSWORD=" + password, binaries + "/createdb", "-h", "127.0.0.1", "-p", "\(port)", "-U", user, name])
        let escaped = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password
        return "postgres://\(user):\(escaped)@127.0.0.1:\(port)/\(name)?sslmode=disable"
    }

    func stop() {
        try? runAsServerUser(binaries + "/pg_ctl", ["-D", dataDirectory, "-m", "fast", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: root)
    }

    private func runAsServerUser(_ executable: String, _ arguments: [String]) throws {
        if getuid() == 0 {
            // In `/`: the server's user may not enter the test's working directory.
            try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", "/usr/bin/env", "-C", "/", executable] + arguments)
        } else {
            try Self.run(executable, arguments)
        }
    }

    /// Runs a program to its end (posix_spawn and waitpid: Foundation's `Process.waitUntilExit` was seen
    /// never returning here once `pg_ctl` had started the server), its output in a file for the error.
    private static func run(_ executable: String, _ arguments: [String]) throws {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("oauth3-pg-run-\(UUID().uuidString)").path
        defer { unlink(outputPath) }
        let output = open(outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard output >= 0 else { throw PostgresServerError(message: "cannot create \(outputPath): \(errno)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, output, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        close(output)
        guard spawned == 0 else { throw PostgresServerError(message: "cannot start \(executable): \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0 && (status >> 8) & 0xff == 0
        guard exited else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            throw PostgresServerError(message: "\(executable) \(arguments.first ?? "") failed (status \(status)): \(text)")
        }
    }

    /// A port nobody listens on now: bind port 0 on loopback, read it, close.
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PostgresServerError(message: "socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw PostgresServerError(message: "bind: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

public struct PostgresServerError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
