#if canImport(Glibc)
import Glibc
#endif
import JailPlan
import Subprocess
import SystemPackage

/// One jail started before its job: its directory and cgroup exist, and `oauth3-jail --prepared` has built
/// the whole sandbox and waits, before forking Deno, for a claim on its stdin (``JailConfiguration/prepared``);
/// a booted one (``shape``) has started Deno already and waits with it (``JailConfiguration/booted``).
///
/// A prepared jail runs at most one job: ``run(input:timeout:)`` may be called once, and a jail that was
/// never claimed is killed by ``retire()``. Either way it ends with its process and the caller removes its
/// directory and cgroup (``dispose()``). Started ahead by ``JailPool``, or on demand for a job that found no
/// prepared jail; both run the same code, so a pooled job gets exactly the layers of a cold one.
///
/// The jail's stdout carries one byte first, ``JailConfiguration/preparedSignal``, written by init when it
/// waits; only after the claim can the program write, so everything after that byte is the job's output.
/// The jail starts with an empty environment: it is a Swift program whose runtime and libc read their
/// environment before `main` (`SWIFT_BACKTRACE`, `LD_PRELOAD`, `GLIBC_TUNABLES`, …), so nothing a job names
/// may be there; Deno's environment travels in the claim's input (`EnvironmentBlock`), a booted Deno's settings
/// ahead of it. A cap or the
/// deadline kills the whole process group at once; the readers keep draining so it never blocks on a pipe.
final class PreparedJail: Sendable {
    /// What a claim hands the waiting jail.
    struct Claim: Sendable {
        /// The ``JobClaim`` block, the environment block and the script, in that order.
        var input: [UInt8]
        var timeout: Duration
    }

    let directory: JobDirectory
    let cgroup: JobCgroup?
    /// For a booted jail (Deno already started, ``JailConfiguration/booted``), what Deno started with; only a
    /// job of this shape may claim it. `nil`: Deno starts after the claim.
    let shape: BootShape?
    /// When the jail was started (the pool's idle timeout counts from here).
    let startedAt: ContinuousClock.Instant
    /// `true` once init waits for the claim; `false` if the jail ended before that.
    private let ready = OneShot<Bool>()
    /// Set once: a reservation (which later receives the job's input, or `nil` when given up), or `nil`
    /// when the jail ended or was retired before anyone reserved it.
    private let claim = OneShot<OneShot<Claim?>?>()
    private let observation = OneShot<Result<ProcessObservation, SandboxError>>()
    private let control = JobControl()

    private init(directory: JobDirectory, cgroup: JobCgroup?, shape: BootShape?) {
        self.directory = directory
        self.cgroup = cgroup
        self.shape = shape
        self.startedAt = .now
    }

    /// Creates the directory and cgroup and starts the jail; returns while it prepares. With `shape`, the
    /// jail is booted: the preload module is written beside the egress socket, and Deno's settings are the
    /// first thing on the jail's stdin.
    static func start(_ blueprint: JailBlueprint, booting shape: BootShape? = nil) throws(SandboxError) -> PreparedJail {
        let configuration = blueprint.configuration
        let limits = configuration.policy.limits
        let directory = try JobDirectory.create(under: configuration.workRoot, owner: limits.uid, group: limits.gid)
        var settings: [UInt8] = []
        if let shape {
            do throws(JailFailure) {
                settings = try EnvironmentBlock.encode(shape.environment)
            } catch {
                directory.remove()
                throw .spawn("Deno's settings cannot be handed to the jail: \(error.detail)")
            }
            let preload = directory.paths.bootPreload
            guard writeFile(preload, BootShape.preload) else {
                let reason = String(cString: strerror(errno))
                directory.remove()
                throw .workDirectory("cannot write \(preload): \(reason)")
            }
        }
        if blueprint.writesDenoCache {
            let output = directory.paths.denoCacheOutput
            guard mkdir(output, 0o700) == 0, chown(output, limits.uid, limits.gid) == 0 else {
                let reason = String(cString: strerror(errno))
                directory.remove()
                throw .workDirectory("cannot create \(output): \(reason)")
            }
        }
        let cgroup: JobCgroup?
        do throws(SandboxError) {
            cgroup = try blueprint.host.cgroups.map { hierarchy throws(SandboxError) in
                try JobCgroup.create(
                    in: hierarchy, id: directory.id, memoryBytes: UInt64(limits.memoryMiB) << 20, pidsMax: limits.pidsMax,
                    cpuCores: limits.cpuCores)
            }
        } catch {
            directory.remove()
            throw error
        }
        let jail = PreparedJail(directory: directory, cgroup: cgroup, shape: shape)
        let cgroups = cgroup?.directories ?? []
        let arguments = if let shape {
            blueprint.bootedJail(in: directory.paths, cgroups: cgroups, shape: shape).encoded()
        } else {
            blueprint.jail(in: directory.paths, cgroups: cgroups).encoded()
        }
        Task.detached {
            jail.observation.set(await jail.supervise(
                executable: configuration.jailPath, arguments: arguments, settings: settings, stdoutCap: limits.stdoutMaxBytes,
                stderrCap: limits.stderrMaxBytes))
        }
        return jail
    }

    /// Writes `text` to a new file at `path`, readable by everyone (the job's user reads it; nothing in it is secret).
    private static func writeFile(_ path: String, _ text: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o444)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count && fchmod(fd, 0o444) == 0
    }

    /// Whether the jail is known to wait for a claim (`true`), to have failed (`false`), or is still preparing (`nil`).
    var isReady: Bool? { ready.current }
    /// Whether the jail's process has ended (after a run, a failure, or ``retire()``).
    var hasEnded: Bool { observation.current != nil }
    /// The jail's process (the leader of its process group) while it runs.
    var processID: pid_t? { control.pid }

    /// Waits until the jail is prepared or has failed.
    func awaitReadiness() async -> Bool { await ready.value }

    /// Takes the jail for one job, before its input exists (the egress proxy needs the jail's directory
    /// first). `false` when it cannot run a job any more: it ended while it waited, or was retired, or taken.
    func reserve() -> Bool {
        claim.set(OneShot())
    }

    /// Runs one job: hands the jail `input` (waiting first, if it is still preparing) and supervises it to
    /// its end, `timeout` counted from now. A cancelled caller (shutdown) kills the job at once.
    /// If the jail failed before it was ready, the result is that failure's observation, with no input written.
    func run(input: [UInt8], timeout: Duration) async -> Result<ProcessObservation, SandboxError> {
        await withTaskCancellationHandler {
            _ = reserve()  // a cold jail is run without a reservation
            await claim.value?.set(Claim(input: input, timeout: timeout))
            return await observation.value
        } onCancel: {
            control.cancel()
        }
    }

    /// Kills a jail nobody ran (waiting in the pool, or reserved and given up) and waits for its process to end.
    func retire() async {
        if claim.set(nil) {
            control.cancel()
        } else if let reserved = await claim.value, reserved.set(nil) {
            control.cancel()
        }
        _ = await observation.value
    }

    /// Removes the directory and the cgroup (after the run, or after ``retire()``), killing whatever is left in the cgroup.
    func dispose() async {
        directory.remove()
        await SkillRunner.destroy(cgroup)
    }

    /// Starts the jail, reads its prepared signal, waits for the claim, writes the input, and drains both
    /// outputs under their caps with the claim's wall-clock limit.
    private func supervise(
        executable: String, arguments: [String], settings: [UInt8], stdoutCap: Int, stderrCap: Int
    ) async -> Result<ProcessObservation, SandboxError> {
        let clock = ContinuousClock()
        var claimedAt = clock.now
        var watchdog: Task<Void, any Error>?
        var options = PlatformOptions()
        options.createSession = true  // its own session and group from the first instruction
        let configuration = Configuration(
            executable: .path(FilePath(executable)), arguments: Arguments(arguments), environment: .custom([[UInt8]]()),
            platformOptions: options)
        let execution: ExecutionResult<(CappedBuffer, CappedBuffer), SequenceOutput, SequenceOutput>
        do {
            execution = try await Subprocess.run(configuration, input: .inputWriter, output: .sequence, error: .sequence) { running in
                control.started(pid: running.processIdentifier.value)
                async let err = Self.drain(running.standardError, cap: stderrCap, control: control)
                async let out = Self.drainOutput(running.standardOutput, cap: stdoutCap, control: control, ready: ready, claim: claim)
                // A booted jail reads Deno's settings first; a jail that died meanwhile makes this fail, and its end says why.
                if !settings.isEmpty { _ = try? await running.standardInputWriter.write(settings) }
                let prepared = await ready.value
                if prepared, let reserved = await claim.value, let claim = await reserved.value {
                    claimedAt = clock.now
                    let deadline = claimedAt + claim.timeout
                    watchdog = Task { [control] in
                        try await Task.sleep(until: deadline, clock: clock)
                        control.expire()
                    }
                    // A jail that died meanwhile closed its stdin: the observation says how it ended.
                    _ = try? await running.standardInputWriter.write(claim.input)
                } else {
                    // Failed before it was ready (its output is the failure's), retired, or given up: no input.
                    claim.set(nil)
                    if prepared { control.cancel() }
                }
                try? await running.standardInputWriter.finish()
                return (try await out, try await err)
            }
        } catch {
            watchdog?.cancel()
            control.finished()
            ready.set(false)
            return .failure(.spawn("cannot start \(executable): \(error)"))
        }
        watchdog?.cancel()
        control.finished()
        let termination: ProcessObservation.Termination
        switch execution.terminationStatus {
        case .exited(let code): termination = .exited(code)
        case .signaled(let signal): termination = .signaled(signal)
        }
        return .success(ProcessObservation(
            termination: termination, stdout: execution.closureResult.0, stderr: execution.closureResult.1,
            timedOut: control.timedOut, outputLimitHit: control.outputLimitHit, duration: claimedAt.duration(to: clock.now)))
    }

    /// Drains stdout: the first byte is the jail's prepared signal (anything else, or nothing, means it
    /// failed, and is kept as output); an end before anyone reserved the jail makes it unclaimable.
    private static func drainOutput(
        _ stream: SubprocessOutputSequence, cap: Int, control: JobControl, ready: OneShot<Bool>, claim: OneShot<OneShot<Claim?>?>
    ) async throws -> CappedBuffer {
        var buffer = CappedBuffer(cap: cap)
        var awaitingSignal = true
        for try await chunk in stream {
            let overflowed = chunk.withUnsafeBytes { bytes in
                if awaitingSignal {
                    awaitingSignal = false
                    let prepared = bytes.first == JailConfiguration.preparedSignal
                    ready.set(prepared)
                    return buffer.append(UnsafeRawBufferPointer(rebasing: bytes[(prepared ? 1 : 0)...]))
                }
                return buffer.append(bytes)
            }
            if overflowed { control.outputLimitReached() }
        }
        ready.set(false)  // ended without the signal
        claim.set(nil)  // whoever did not reserve it yet cannot any more
        return buffer
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
