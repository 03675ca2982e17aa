import Foundation
import Synchronization
import TestSupport

/// `scripts/run-daemon.sh`, the script `make run` ends in, as a newcomer starts it: from the repository,
/// with the daemon's defaults, on a free port and over a fresh data directory (the only two things given).
/// Ready once it has printed its example; stopped with SIGTERM, as Ctrl-C stops it.
final class MakeRunScript: StoppedAtTestEnd {
    /// The example command it printed, as a newcomer would paste it.
    let example: String
    private let process: Process

    static func start() async throws -> MakeRunScript {
        let process = Process()
        process.executableURL = Fixture.repository.appendingPathComponent("scripts/run-daemon.sh")
        process.currentDirectoryURL = Fixture.repository
        let home = Fixture.workRoot()
        process.environment = [
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": home, "OAUTH3_PORT": String(try freePort()), "OAUTH3_DATA_DIR": home + "/data",
            "OAUTH3_WORK_DIR": home + "/work",
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()

        let (examples, found) = AsyncStream.makeStream(of: String.self)
        let printed = Mutex("")
        let reader = pipe.fileHandleForReading
        // A thread of its own: a blocking read must not hold one of the cooperative pool's threads.
        Thread.detachNewThread {
            var pending = Data()
            while case let chunk = reader.availableData, !chunk.isEmpty {
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    printed.withLock { $0 += line + "\n" }
                    if line.contains(" execute --code ") { found.yield(line.trimmingCharacters(in: .whitespaces)) }
                }
            }
            found.finish()
        }
        var iterator = examples.makeAsyncIterator()
        guard let example = await iterator.next() else {
            throw MakeRunScriptError(description: "run-daemon.sh printed no example:\n\(printed.withLock { $0 })")
        }
        let script = MakeRunScript(example: example, process: process)
        DaemonRegistry.register(script)
        return script
    }

    private init(example: String, process: Process) {
        self.example = example
        self.process = process
    }

    /// Kills the daemon and the script. Not Ctrl-C: a process started from the test runner inherits its
    /// blocked signal mask, so SIGINT and SIGTERM would stay pending in the script forever.
    func stop() async {
        let pid = process.processIdentifier
        let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        for child in children.split(separator: " ").compactMap({ pid_t($0) }) { kill(child, SIGKILL) }
        if process.isRunning { kill(pid, SIGKILL) }
        await Fixture.waitForExit(process)
    }

    /// A loopback port nothing listens on now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct MakeRunScriptError: Error, CustomStringConvertible {
    let description: String
}

/// Runs `command` with `/bin/sh` in `directory`, as pasted into a terminal; every `👉 … URL` line on stderr
/// is handed to `onApprovalLink` while it runs (as a human would click it).
func shell(
    _ command: String, in directory: String, onApprovalLink: @escaping @Sendable (String) async throws -> Void
) async throws -> (status: Int32, out: String, err: String) {
    try await watched(
        "/bin/sh", ["-c", command], environment: ["PATH": "/usr/bin:/bin", "HOME": Fixture.workRoot()], workingDirectory: directory,
        onApprovalLink: onApprovalLink)
}
