#if canImport(Glibc)
import Glibc
#endif
import Subprocess
import SystemPackage

/// What the daemon saw of one process: how it ended, what it wrote, and which limits it hit.
struct ProcessObservation: Sendable {
    enum Termination: Sendable, Hashable {
        case exited(Int32)
        case signaled(Int32)
    }
    var termination: Termination
    var stdout: CappedBuffer
    var stderr: CappedBuffer
    var timedOut: Bool
    var outputLimitHit: Bool
    var duration: Duration
}

/// Starts one process, feeds it its stdin, drains both outputs under their caps, and enforces the
/// wall-clock limit on a monotonic clock. A cap or the deadline kills the whole process group at once;
/// the readers keep draining so the process never blocks on a full pipe.
///
/// The process starts with an empty environment. It is the jail, a Swift program whose runtime and libc
/// read their environment before `main` (`SWIFT_BACKTRACE`, `LD_PRELOAD`, `GLIBC_TUNABLES`, …), so
/// nothing a job names may be there; Deno's environment travels in `input` (`EnvironmentBlock`).
enum ProcessSupervisor {
    static func run(
        executable: String, arguments: [String], input: [UInt8],
        stdoutCap: Int, stderrCap: Int, timeout: Duration
    ) async throws(SandboxError) -> ProcessObservation {
        let control = JobControl()
        let clock = ContinuousClock()
        let start = clock.now
        let watchdog = Task {
            try await Task.sleep(until: start + timeout, clock: clock)
            control.expire()
        }
        defer { watchdog.cancel() }

        var options = PlatformOptions()
        options.createSession = true  // its own session and group from the first instruction
        let execution: ExecutionResult<(CappedBuffer, CappedBuffer), SequenceOutput, SequenceOutput>
        do {
            // A cancelled job (the daemon shutting down) is killed at once, like a timed-out one.
            execution = try await withTaskCancellationHandler {
              try await Subprocess.run(
                .path(FilePath(executable)),
                arguments: Arguments(arguments),
                environment: .custom([[UInt8]]()),
                platformOptions: options,
                input: .array(input),
                output: .sequence,
                error: .sequence
            ) { running in
                control.started(pid: running.processIdentifier.value)
                async let out = drain(running.standardOutput, cap: stdoutCap, control: control)
                async let err = drain(running.standardError, cap: stderrCap, control: control)
                return try await (out, err)
              }
            } onCancel: {
                control.cancel()
            }
        } catch {
            control.finished()
            throw .spawn("cannot start \(executable): \(error)")
        }
        control.finished()
        let duration = start.duration(to: clock.now)

        let termination: ProcessObservation.Termination
        switch execution.terminationStatus {
        case .exited(let code): termination = .exited(code)
        case .signaled(let signal): termination = .signaled(signal)
        }
        return ProcessObservation(
            termination: termination, stdout: execution.closureResult.0, stderr: execution.closureResult.1,
            timedOut: control.timedOut, outputLimitHit: control.outputLimitHit, duration: duration)
    }

    private static func drain(_ stream: SubprocessOutputSequence, cap: Int, control: JobControl) async throws -> CappedBuffer {
        var buffer = CappedBuffer(cap: cap)
        for try await chunk in stream {
            let overflowed = chunk.withUnsafeBytes { buffer.append($0) }
            if overflowed { control.outputLimitReached() }
        }
        return buffer
    }
}
