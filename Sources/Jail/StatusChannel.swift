import CJailShims

/// The two pipes between the jail (outside) and its child, init of the job's namespaces (inside):
/// "go" tells the child its user-namespace maps are written; "status" brings back how the program ended.
struct StatusChannel {
    private var go: (read: Int32, write: Int32)
    private var status: (read: Int32, write: Int32)

    /// How the contained program ended.
    enum Ending: Equatable {
        case exited(Int32)
        case signaled(Int32)
    }

    init() throws(JailFailure) {
        var goPipe: [Int32] = [-1, -1], statusPipe: [Int32] = [-1, -1]
        guard cjail_pipe_cloexec(&goPipe) == 0, cjail_pipe_cloexec(&statusPipe) == 0 else { throw failure(.clone, "pipe2") }
        go = (goPipe[0], goPipe[1])
        status = (statusPipe[0], statusPipe[1])
    }

    // MARK: outside

    /// Keeps only the outside's ends.
    mutating func becomeOutside() {
        close(go.read)
        close(status.write)
    }

    /// Lets the child go on.
    func release() {
        var byte: UInt8 = 1
        _ = write(go.write, &byte, 1)
        close(go.write)
    }

    /// What the outside saw while it waited.
    enum Wait: Equatable {
        /// The child reported the program's ending, or (`nil`) died without saying.
        case ended(Ending?)
        /// The daemon that supervises the job is gone.
        case daemonGone
    }

    /// Waits for the program's ending as reported by the child, watching the daemon at the same time.
    func awaitEnding(watching daemon: DaemonWatch) -> Wait {
        var entries = [pollfd(fd: status.read, events: Int16(POLLIN), revents: 0), pollfd(fd: daemon.descriptor, events: Int16(POLLIN), revents: 0)]
        while true {
            // Without a pidfd (old kernels) the daemon is checked twice a second instead.
            let ready = poll(&entries, daemon.descriptor >= 0 ? 2 : 1, daemon.descriptor >= 0 ? -1 : 500)
            if ready < 0 && errno != EINTR { return .ended(awaitEnding()) }
            if entries[0].revents != 0 { return .ended(awaitEnding()) }
            if !daemon.daemonAlive { return .daemonGone }
        }
    }

    /// Reads the program's ending as reported by the child, or `nil` if the child died without saying.
    private func awaitEnding() -> Ending? {
        var message = [UInt8](repeating: 0, count: 5)
        var received = 0
        while received < 5 {
            let count = message.withUnsafeMutableBytes { read(status.read, $0.baseAddress! + received, 5 - received) }
            if count > 0 { received += count } else if count < 0 && errno == EINTR { continue } else { return nil }
        }
        let value = message[1...4].withUnsafeBytes { Int32(littleEndian: $0.loadUnaligned(as: Int32.self)) }
        switch message[0] {
        case UInt8(ascii: "E"): return .exited(value)
        case UInt8(ascii: "S"): return .signaled(value)
        default: return nil
        }
    }

    // MARK: inside

    /// Keeps only the inside's ends.
    mutating func becomeInside() {
        close(go.write)
        close(status.read)
    }

    /// Waits for the outside's go; `false` if the outside died first.
    func awaitRelease() -> Bool {
        var byte: UInt8 = 0
        while true {
            let count = read(go.read, &byte, 1)
            if count == 1 { close(go.read); return true }
            if count < 0 && errno == EINTR { continue }
            return false
        }
    }

    /// Reports how the program ended.
    func report(_ ending: Ending) {
        var message: [UInt8]
        switch ending {
        case .exited(let code): message = [UInt8(ascii: "E")] + withUnsafeBytes(of: code.littleEndian, Array.init)
        case .signaled(let signal): message = [UInt8(ascii: "S")] + withUnsafeBytes(of: signal.littleEndian, Array.init)
        }
        _ = write(status.write, &message, message.count)
    }
}
