import Foundation
import Gateway
import OAuth3Client
import OAuth3Wire
import TestSupport
import Testing

/// What a deployment probes: `/healthz` (alive), `/readyz` (can take and attest a job now), `/metrics`.
@Suite("Health, readiness and metrics", .serialized, .timeLimit(.minutes(3)), .stopsDaemons)
struct ProbeEndpointTests {
    @Test("/readyz: 200 with every check passing on a started daemon; 503 naming the guest agent once its socket is gone")
    func readiness() async throws {
        let daemon = try await LiveDaemon.start { $0.guestAgentProbeSeconds = 0 }
        let ready = try await daemon.raw("GET", "/readyz")
        #expect(ready.status == 200, "\(ready.body)")
        let report = try JSONDecoder().decode(JSONValue.self, from: Data(ready.body.utf8))
        #expect(report["status"] == .string("ready"))
        guard case .array(let checks)? = report["checks"] else { Issue.record("no checks: \(ready.body)"); return }
        #expect(checks.compactMap { $0["name"]?.stringValue } == ["database", "sandbox", "guest_agent", "scheduler"])
        #expect(checks.allSatisfy { $0["ok"] == .bool(true) })

        try FileManager.default.removeItem(atPath: daemon.agentSocket)
        let unready = try await daemon.raw("GET", "/readyz")
        #expect(unready.status == 503)
        let failing = try JSONDecoder().decode(JSONValue.self, from: Data(unready.body.utf8))
        #expect(failing["status"] == .string("not_ready"))
        guard case .array(let after)? = failing["checks"] else { Issue.record("no checks: \(unready.body)"); return }
        #expect(after.filter { $0["ok"] == .bool(false) }.compactMap { $0["name"]?.stringValue } == ["guest_agent"])
        // Liveness does not depend on the guest agent: the process is still up.
        #expect(try await daemon.raw("GET", "/healthz").status == 200)
    }

    @Test("/metrics: Prometheus text with queue depth, jobs by outcome, durations, sandbox and attestation series, and no tenant data")
    func metrics() async throws {
        let daemon = try await LiveDaemon.start()
        let before = try await daemon.raw("GET", "/metrics")
        #expect(before.status == 200 && before.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        for line in [
            "# TYPE oauth3_queue_depth gauge", "oauth3_queue_depth 0.0", "oauth3_jobs_running 0.0", #"oauth3_jobs_total{outcome="ok"} 0"#,
            #"oauth3_jobs_total{outcome="interrupted"} 0"#, #"oauth3_sandbox_failures_total{stage="jail"} 0"#, "oauth3_job_duration_seconds_count 0",
            "oauth3_attestation_duration_seconds_count 0", "oauth3_attestation_failures_total 0", "oauth3_egress_connections_total 0",
            "oauth3_egress_bytes_total 0", #"oauth3_egress_refusals_total{code="refused_address"} 0"#,
        ] {
            #expect(before.body.contains(line + "\n"), "missing '\(line)' in:\n\(before.body)")
        }

        let (agent, tenant) = try await daemon.tenant()
        try await agent.putSecret("API_TOKEN", value: "metrics-must-not-show-this-7f3a")
        let job = try await agent.execute(.init(skillId: "secretive", skillCode: withSecret))
        try await approve(daemon, job)
        let done = try await agent.poll(job.requestId, timeout: .seconds(60))
        #expect(done.status == "completed")

        let after = try await daemon.raw("GET", "/metrics").body
        #expect(after.contains(#"oauth3_jobs_total{outcome="ok"} 1"# + "\n"), "\(after)")
        #expect(after.contains("oauth3_job_duration_seconds_count 1\n") && after.contains("oauth3_attestation_duration_seconds_count 1\n"))
        for private_ in [tenant, job.requestId, "secretive", "metrics-must-not-show-this-7f3a", "API_TOKEN", "hello"] {
            #expect(!after.contains(private_), "/metrics shows \(private_)")
        }
    }
}
