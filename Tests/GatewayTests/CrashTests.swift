import Foundation
import OAuth3Client
import OAuth3Wire
import Store
import TestSupport
import Testing

/// The real daemon process killed with SIGKILL mid-job: nothing it accepted is lost, nothing runs twice,
/// and nothing of the killed job keeps running.
@Suite("kill -9 of the daemon mid-job", .serialized, .timeLimit(.minutes(3)), .stopsDaemons)
struct CrashTests {
    @Test("After kill -9 and a restart, the running job is failed/interrupted, queued jobs complete, each with exactly one final event, and no job process outlives the daemon")
    func killNine() async throws {
        let root = Fixture.workRoot()
        let daemon = try await DaemonProcess.start(dataDirectory: root, arguments: ["--workers", "1"])
        let account = try await OAuth3Client(baseURL: daemon.url, apiKey: nil).signup(name: "crashed")
        var client = OAuth3Client(baseURL: daemon.url, apiKey: account.apiKey)
        let marker = "crash-marker-\(UUID().uuidString)"
        try await client.putSecret("MARK", value: marker)
        let slow = "// @skill slow\n// @secrets MARK\n// @timeout 60\nconsole.log('started'); await new Promise((r) => setTimeout(r, 30000))\n"
        let running = try await client.execute(.init(skillCode: slow))
        let approval = try await Self.approve(daemon.url, running)
        #expect(approval == 200)
        let queued = [try await client.execute(.init(skillCode: hello)), try await client.execute(.init(skillCode: hello))]
        for job in queued { #expect(try await Self.approve(daemon.url, job) == 200) }
        while try await client.status(running.requestId).status != "executing" { try await Task.sleep(for: .milliseconds(50)) }
        // The job's Deno holds the secret in its environment: it is running now.
        while Fixture.processes(withEnvironmentContaining: marker).isEmpty { try await Task.sleep(for: .milliseconds(50)) }

        daemon.signal(SIGKILL)
        #expect(await daemon.waitForExit(within: .seconds(5)))
        // The job's processes die with the daemon: a crash must not leave a skill running unsupervised.
        #expect(await Fixture.processesLeft(withEnvironmentContaining: marker, within: 5).isEmpty)

        let restarted = try await DaemonProcess.start(dataDirectory: root, arguments: ["--workers", "1"])
        client = OAuth3Client(baseURL: restarted.url, apiKey: account.apiKey)
        let interrupted = try await client.status(running.requestId)
        #expect(interrupted.status == "failed" && interrupted.error?.hasPrefix("interrupted") == true, "\(interrupted)")
        for job in queued {
            let done = try await client.poll(job.requestId, timeout: .seconds(60))
            #expect(done.status == "completed", "\(done)")
        }
        restarted.signal(SIGTERM)
        #expect(await restarted.waitForExit(within: .seconds(15)))

        let store = try Store.open(path: root + "/data/enclave.sqlite")
        let terminal: Set<String> = ["job.finished", "job.failed", "job.interrupted", "job.expired", "job.denied"]
        for id in [running.requestId] + queued.map(\.requestId) {
            let events = try await store.audit(job: id).map(\.event)
            #expect(events.filter(terminal.contains).count == 1, "\(id): \(events)")
        }
        #expect(try await store.firstBrokenAuditEntry() == nil)
    }

    static func approve(_ base: URL, _ job: ExecutionStatus) async throws -> Int {
        var request = URLRequest(url: base.appendingPathComponent("approve/\(job.requestId)"))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = decision(token(of: job.approvalUrl))
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }
}

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
