import Foundation
import Synchronization

/// The real `oauth3-enclave serve`, as its own process on a port the OS picks, for what only a process
/// shows: signals (SIGTERM, `kill -9`), its descriptor limit, its log.
///
/// It runs with its own development guest agent (no dstack socket here) and the repository's policies,
/// and is ready once it logs the address it listens on.
public final class DaemonProcess: StoppedAtTestEnd {
    public let url: URL
    public let pid: Int32
    public let dataDirectory: String
    private let process: Process
    private let output: LogLines

    /// Starts the daemon over `dataDirectory` and waits until it listens.
    /// - Parameters:
    ///   - arguments: more `serve` flags.
    ///   - softOpenFiles: the soft `RLIMIT_NOFILE` it starts with (as a container's default of 1024 would be).
    ///   - environment: more variables (the `OAUTH3_…` names of `ServeEnvironment`).
    public static func start(
        dataDirectory: String = Fixture.workRoot(), arguments: [String] = [], softOpenFiles: Int? = nil,
        environment: [String: String] = [:], logLevel: String = "info"
    ) async throws -> DaemonProcess {
        let serve = [Fixture.enclave, "serve", "--port", "0", "--data-dir", dataDirectory + "/data", "--deno", Fixture.deno,
                     "--jail", Fixture.jail, "--policies", Fixture.policies, "--work-dir", dataDirectory + "/work"] + arguments
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        // `ulimit -Sn` in a shell that then execs the daemon: the daemon itself starts with that soft limit.
        let limit = softOpenFiles.map { "ulimit -Sn \($0) && " } ?? ""
        process.arguments = ["-c", limit + "exec \"$@\"", "sh"] + serve
        process.environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OAUTH3_LOG_LEVEL": logLevel].merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()

        let lines = LogLines()
        let (ports, portFound) = AsyncStream.makeStream(of: Int.self)
        let reader = pipe.fileHandleForReading
        // A thread of its own: a blocking read must not hold one of the cooperative pool's two threads.
        Thread.detachNewThread {
            var pending = Data()
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    lines.append(line)
                    if line.contains("listening"), let range = line.range(of: #"address=[0-9.]+:([0-9]+)"#, options: .regularExpression),
                       let port = Int(line[range].split(separator: ":").last ?? "") {
                        portFound.yield(port)
                    }
                }
            }
            portFound.finish()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            let log = lines.all.joined(separator: "\n")
            throw DaemonProcessError(message: "the daemon exited before it listened:\n\(log)")
        }
        let daemon = DaemonProcess(url: URL(string: "http://127.0.0.1:\(port)")!, process: process, dataDirectory: dataDirectory, output: lines)
        DaemonRegistry.register(daemon)
        return daemon
    }

    private init(url: URL, process: Process, dataDirectory: String, output: LogLines) {
        self.url = url
        self.process = process
        self.pid = process.processIdentifier
        self.dataDirectory = dataDirectory
        self.output = output
    }

    /// Everything it logged so far.
    public var log: [String] { output.all }
    public var isRunning: Bool { process.isRunning }

    /// Sends `signal` (SIGTERM for a graceful stop, SIGKILL for a crash).
    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits until it exits; `false` if it still runs after `limit`.
    public func waitForExit(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return !process.isRunning
    }

    /// Kills it if it still runs, and waits.
    public func stop() async {
        if process.isRunning { signal(SIGKILL) }
        _ = await waitForExit(within: .seconds(10))
    }

    /// Its soft open-file limit, from `/proc`.
    public func softOpenFiles() -> Int? {
        guard let limits = try? String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8),
              let line = limits.split(separator: "\n").first(where: { $0.hasPrefix("Max open files") }) else { return nil }
        return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).first.flatMap { Int($0) }
    }
}

public struct DaemonProcessError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Lines a process wrote, appended by its reader thread, read by the test.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}
