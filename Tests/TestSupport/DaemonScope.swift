import Synchronization
import Testing

/// Something a test starts that must be stopped, and awaited, before the next test runs.
public protocol StoppedAtTestEnd: Sendable {
    func stop() async
}

/// The daemons started under the current test (``DaemonScope``), in order.
public final class DaemonRegistry: Sendable {
    @TaskLocal public static var current: DaemonRegistry?
    private let started = Mutex<[any StoppedAtTestEnd]>([])

    /// Registers `daemon` with the current test's scope, if there is one.
    public static func register(_ daemon: any StoppedAtTestEnd) {
        current?.started.withLock { $0.append(daemon) }
    }

    func stopAll() async {
        for daemon in started.withLock({ $0.reversed() }) { await daemon.stop() }
    }
}

/// A trait for suites whose tests start daemons: each test's daemons are stopped, and awaited, when it
/// ends, however it ends (a thrown error, a failed `#require`). A `defer { Task { await stop() } }` would
/// let the next test start while the last one's daemon still shuts down, its jobs still running.
public struct DaemonScope: TestTrait, SuiteTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        guard testCase != nil else { return try await function() }  // the suite itself: each test gets its own
        let registry = DaemonRegistry()
        do {
            try await DaemonRegistry.$current.withValue(registry) { try await function() }
        } catch {
            await registry.stopAll()
            throw error
        }
        await registry.stopAll()
    }
}

extension Trait where Self == DaemonScope {
    /// Every daemon a test starts is stopped and awaited when the test ends.
    public static var stopsDaemons: Self { DaemonScope() }
}
