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

    /// Waits for the program's ending as reported by the child, or `nil` if the child died without saying.
    ///
    /// If the daemon goes first (killed, crashed), the jail ends at once, and init, tied to it by its
    /// parent-death signal, takes the whole job with it: nothing would supervise or read it any more. The
    /// daemon holds the read end of the jail's stdout, and a pipe whose reader is gone reports POLLERR to
    /// its writer. (A parent-death signal on the jail itself would not do: it fires when the daemon
    /// *thread* that spawned the jail exits, and a thread pool retires threads while jobs run.)
    func awaitEnding() -> Ending? {
        var message = [UInt8](repeating: 0, count: 5)
        var received = 0
        var watchingStdout = true  // a file or /dev/null (a test's jail) never reports POLLERR: harmless
        while received < 5 {
            var descriptors = [pollfd(fd: status.read, events: Int16(POLLIN), revents: 0)]
            if watchingStdout { descriptors.append(pollfd(fd: 1, events: 0, revents: 0)) }
            guard poll(&descriptors, nfds_t(descriptors.count), -1) >= 0 else {
                if errno == EINTR { continue }
                return nil
            }
            if watchingStdout {
                let events = descriptors[1].revents
                if events & Int16(POLLNVAL) != 0 { watchingStdout = false }
                if events & Int16(POLLERR) != 0 { _exit(JailFailure.exitCode) }
            }
            if descriptors[0].revents == 0 { continue }
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
