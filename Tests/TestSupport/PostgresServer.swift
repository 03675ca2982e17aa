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

    private static let starting = Mutex<Task<PostgresServer, any Error>?>(nil)
    private static let running = Mutex<PostgresServer?>(nil)

    /// The process's server, started on first use (callers at once wait for the one start).
    public static func shared() async throws -> PostgresServer {
        let task = starting.withLock { task in
            if let task { return task }
            let started = Task { try await PostgresServer.start() }
            task = started
            return started
        }
        return try await task.value
    }

    private static func start() async throws -> PostgresServer {
        guard let binaries = Self.binaries else { throw PostgresServerError(message: Self.unavailableReason ?? "") }
        let server = PostgresServer(binaries: binaries, port: try freePort())
        try FileManager.default.createDirectory(atPath: server.root, withIntermediateDirectories: true)
        let passwordFile = server.root + "/password"
        try Data(server.password.utf8).write(to: URL(fileURLWithPath: passwordFile))
        if getuid() == 0 { try await run("/bin/chown", ["-R", "postgres:postgres", server.root]) }
        try await server.runAsServerUser(binaries + "/initdb", [
            "-D", server.dataDirectory, "-U", server.user, "--auth=scram-sha-256", "--pwfile=" + passwordFile, "-E", "UTF8", "--no-sync",
        ])
        try await server.runAsServerUser(binaries + "/pg_ctl", [
            "-D", server.dataDirectory, "-l", server.root + "/server.log", "-w", "-t", "60", "start",
            "-o", "-c listen_addresses=127.0.0.1 -p \(server.port) -c unix_socket_directories=\(server.root) -c fsync=off -c max_connections=200",
        ])
        running.withLock { $0 = server }
        atexit { PostgresServer.stopShared() }
        return server
    }

    private init(binaries: String, port: Int) {
        self.binaries = binaries
        self.port = port
        root = FileManager.default.temporaryDirectory.appendingPathComponent("oauth3-pg-\(UUID().uuidString.prefix(8))").path
        dataDirectory = root + "/data"
    }

    /// At exit (no tasks then): SIGINT, PostgreSQL's fast shutdown, to the postmaster; wait for it; remove the folder.
    private static func stopShared() {
        guard let server = running.withLock({ $0 }),
              let text = try? String(contentsOfFile: server.dataDirectory + "/postmaster.pid", encoding: .utf8),
              let pid = text.split(separator: "\n").first.flatMap({ Int32($0) }) else { return }
        kill(pid, SIGINT)
        for _ in 0..<500 where kill(pid, 0) == 0 { usleep(10_000) }
        try? FileManager.default.removeItem(atPath: server.root)
    }

    /// A new, empty database; its URL (password included, percent-escaped) for `--database` or `PostgresStore`.
    public func makeDatabase() async throws -> String {
        let name = "test_\(databases.withLock { $0 += 1; return $0 })_\(UUID().uuidString.prefix(6).lowercased())"
        try await Self.run("/usr/bin/env", ["PGPASSWORD=" + password, binaries + "/createdb", "-h", "127.0.0.1", "-p", "\(port)", "-U", user, name])
        let escaped = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password
        return "postgres://\(user):\(escaped)@127.0.0.1:\(port)/\(name)?sslmode=disable"
    }

    private func runAsServerUser(_ executable: String, _ arguments: [String]) async throws {
        if getuid() == 0 {
            // In `/`: the server's user may not enter the test's working directory.
            try await Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", "/usr/bin/env", "-C", "/", executable] + arguments)
        } else {
            try await Self.run(executable, arguments)
        }
    }

    /// Runs a program to its end through swift-subprocess (asynchronous; the child gets no descriptor of ours).
    private static func run(_ executable: String, _ arguments: [String]) async throws {
        let result = try await Fixture.execute(executable, arguments, environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
        guard result.status == 0, !result.signaled else {
            throw PostgresServerError(message: "\(executable) \(arguments.first ?? "") failed (\(result.status)): \(result.out)\(result.err)")
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
