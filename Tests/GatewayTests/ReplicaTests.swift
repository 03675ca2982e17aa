import Foundation
import Gateway
import OAuth3Client
import OAuth3Wire
import Store
import TestSupport
import Testing

/// Two real daemons on one real PostgreSQL, as replicas behind dstack's gateway: either serves any request,
/// a job runs on whichever has a free worker, long-polls wake on the replica that holds them, and a replica
/// killed mid-job leaves that job interrupted once, never run again.
@Suite(
    "Replicas: two daemons on one PostgreSQL", .serialized, .timeLimit(.minutes(3)), .stopsDaemons,
    .enabled(if: PostgresServer.binaries != nil, "PostgreSQL is not installed: `make setup` installs it"))
struct ReplicaTests {
    /// A daemon on `database`, with the development guest agent seeded like `sibling`'s: the same app key,
    /// so the same vault key, as dstack's KMS gives every replica of one app.
    static func replica(database: String, sibling: DaemonProcess? = nil) async throws -> DaemonProcess {
        let root = Fixture.workRoot()
        if let sibling {
            try FileManager.default.createDirectory(atPath: root + "/data", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: sibling.dataDirectory + "/data/dev-guest-agent.seed", toPath: root + "/data/dev-guest-agent.seed")
        }
        return try await DaemonProcess.start(
            dataDirectory: root, arguments: ["--workers", "1"],
            environment: [ServeEnvironment.databaseURL.rawValue: database, ServeEnvironment.jobLease.rawValue: "2"])
    }

    @Test("Submitted at A, approved at B, run on A while B is busy; B's long-poll wakes; kill -9 of B leaves its job interrupted once")
    func replicas() async throws {
        let database = try await PostgresServer.shared().makeDatabase()
        let b = try await Self.replica(database: database)
        #expect(!b.log.joined().contains(try await PostgresServer.shared().password), "the URL's password is not logged")
        let account = try await OAuth3Client(baseURL: b.url, apiKey: nil).signup(name: "replicas")
        let atB = OAuth3Client(baseURL: b.url, apiKey: account.apiKey)
        // B's only worker takes a slow job before A exists, so the next job can only run on A.
        let slow = "// @skill slow\n// @timeout 60\nconsole.log('started'); await new Promise((r) => setTimeout(r, 30000))\n"
        let running = try await atB.execute(.init(skillCode: slow))
        #expect(try await CrashTests.approve(b.url, running) == 200)
        while try await atB.status(running.requestId).status != "executing" { try await Task.sleep(for: .milliseconds(50)) }

        let a = try await Self.replica(database: database, sibling: b)
        let atA = OAuth3Client(baseURL: a.url, apiKey: account.apiKey)
        #expect(try await atA.status(running.requestId).status == "executing", "A's start leaves B's running job to B")
        let job = try await atA.execute(.init(skillCode: hello))
        #expect(job.status == "pending")
        // B holds a long-poll on the job before anyone decides; it must return when the job changes on A's side.
        let clock = ContinuousClock()
        let started = clock.now
        async let firstChange = atB.status(job.requestId, holdingUpTo: .seconds(60))
        try await Task.sleep(for: .milliseconds(300))  // the hold is open (nothing signals that it is; a late hold returns at once anyway)
        #expect(try await CrashTests.approve(b.url, job) == 200)
        let changed = try await firstChange
        #expect(changed.status != "pending" && clock.now - started < .seconds(20), "\(changed.status) after \(clock.now - started)")
        let done = try await atB.poll(job.requestId, timeout: .seconds(45))
        #expect(done.status == "completed", "\(done)")
        #expect(clock.now - started < .seconds(20), "each hold at B returned when A changed the job, not at its timeout")

        b.signal(SIGKILL)
        #expect(await b.waitForExit(within: .seconds(5)))
        let interrupted = try await atA.poll(running.requestId, timeout: .seconds(30))
        #expect(interrupted.status == "failed" && interrupted.error?.hasPrefix("interrupted") == true, "\(interrupted)")

        let store = try await PostgresStore.connect(try DatabaseURL(database))
        let events = try await store.audit(job: running.requestId).map(\.event)
        #expect(events.filter { $0 == "job.started" }.count == 1 && events.filter { $0 == "job.interrupted" }.count == 1, "\(events)")
        #expect(events.last == "job.interrupted")
        #expect(try await store.audit(job: job.requestId).map(\.event).filter { $0 == "job.started" }.count == 1)
        #expect(try await store.firstBrokenAuditEntry() == nil)
        await store.close()
    }
}
