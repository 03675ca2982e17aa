import Attestation
import Egress
import Foundation
import Logging
import OAuth3Wire
import Sandbox
import SkillManifest
import Store
import Vault

extension JobService {
    /// Runs one job that a worker claimed (it is `executing`) to its final state. Never throws: whatever
    /// happens, the job ends `completed` or `failed` with the reason.
    func run(_ job: JobRecord) async {
        let id = job.id
        var steps = JobSteps()
        // Approved (or submitted, when approval was automatic) to claimed by a worker, on the store's clock.
        steps.queued = .milliseconds((job.executedAt ?? 0) - (job.approvedAt ?? job.createdAt))
        await steps.time(\.announce) { await changed(job) }
        let started = ContinuousClock.now
        let finished: JobRecord?
        do {
            let (result, timings) = try await execute(job, steps: &steps)
            steps.sandbox = timings
            if result.outcome == .sandboxError { metrics.sandboxFailed(stage: "jail") }
            let end = clock.now()
            let resultJSON = try await steps.time(\.attest) { try await resultDocument(result, job: job, finishedAt: end) }
            finished = try await steps.time(\.store) { try await store.transition(id, from: [.executing], at: end, event: "job.finished", detail: ["outcome": result.outcome.rawValue]) {
                $0.status = result.success ? .completed : .failed
                $0.resultJSON = resultJSON
                $0.outcome = result.outcome.rawValue
                $0.error = result.success ? nil : Self.failureReason(result)
                $0.completedAt = end
            } }
            metrics.jobFinished(outcome: result.outcome.rawValue, duration: ContinuousClock.now - started)
            metrics.egress(result.network)
        } catch {
            let end = clock.now()
            let interrupted = Task.isCancelled
            metrics.jobFinished(outcome: interrupted ? "interrupted" : Outcome.sandboxError.rawValue, duration: ContinuousClock.now - started)
            if !interrupted && !(error is AttestationError) { metrics.sandboxFailed(stage: "runner") }
            let store = self.store
            let reason = "\(error)"
            // A cancelled task cannot write (GRDB checks cancellation), and the final state must be recorded.
            finished = await Task.detached {
                try? await store.transition(id, from: [.executing], at: end, event: "job.failed", detail: ["error": reason]) {
                    $0.status = .failed
                    $0.outcome = interrupted ? "interrupted" : "sandbox_error"
                    $0.error = interrupted ? "interrupted: the enclave shut down while the job was running" : reason
                    $0.completedAt = end
                }
            }.value
        }
        await steps.time(\.wake) { await changed(finished) }
        var metadata: Logger.Metadata = ["job": "\(id)", "status": "\(finished?.status.rawValue ?? "?")", "outcome": "\(finished?.outcome ?? "-")"]
        metadata.merge(steps.metadata) { $1 }
        logger.info("job finished", metadata: metadata)
    }

    /// Unseals the job's secrets and runs it.
    private func execute(_ job: JobRecord, steps: inout JobSteps) async throws -> (RunResult, RunTimings) {
        let prepareStarted = ContinuousClock.now
        let manifest = try SkillManifest.parse(job.code ?? "", configuration: manifestConfiguration)
        let names = manifest.secrets.map(\.rawValue)
        let sealed = names.isEmpty ? [:] : try await store.sealedSecrets(tenant: job.tenantId, names: names)
        var secrets: [SecretName: String] = [:]
        var bound: [BoundSecret] = []
        for name in manifest.secrets {
            guard let stored = sealed[name.rawValue] else {
                throw GatewayError.conflict("secret \(name) was deleted before the job ran")
            }
            // A bound secret opens only with the binding it was sealed with: a binding edited in the database fails here.
            let value = try vault.open(stored.sealed, name: name.rawValue, tenant: job.tenantId, binding: stored.binding)
            if let binding = stored.binding {
                bound.append(try ValidatedBinding.stored(binding).boundSecret(name: name.rawValue, value: value))
            } else {
                secrets[name] = value
            }
        }
        let stored = try JSONDecoder().decode([String: String].self, from: Data((job.argsJSON ?? "{}").utf8))
        var arguments: [SecretName: String] = [:]
        for (name, value) in stored { if case .success(let validated) = SecretName.validate(name) { arguments[validated] = value } }
        let skillJob = SkillJob(source: Array((job.code ?? "").utf8), manifest: manifest, secrets: secrets, arguments: arguments, boundSecrets: bound,
            cacheScope: job.tenantId)
        steps.prepare = ContinuousClock.now - prepareStarted
        let run = try await runner.runTimed(skillJob)
        if Task.isCancelled { throw CancellationError() }
        return run
    }

    /// The result as stored and served: the runner's result, the request it answers, how the job was
    /// approved, and the attestation binding all of that to a quote.
    private func resultDocument(_ result: RunResult, job: JobRecord, finishedAt: Int64) async throws -> String {
        let claims = ResultClaims(
            run: result, requestId: job.id, approvedBy: job.approvedBy, approvalDetail: job.approvalDetail,
            consent: try runConsent(job, finishedAt: finishedAt))
        let started = ContinuousClock.now
        let attestation: ResultAttestation
        do {
            attestation = try await attestor.attest(claims)
            metrics.attestation(took: ContinuousClock.now - started, failed: false)
        } catch {
            metrics.attestation(took: ContinuousClock.now - started, failed: true)
            throw error
        }
        return try JobRecord.storedResult(AttestedResult(claims: claims, attestation: attestation))
    }

    /// How the job was approved, with what arguments, and when. A job approved before consent records
    /// existed, by a person through the link, says `token`: that is all that was proven.
    func runConsent(_ job: JobRecord, finishedAt: Int64) throws -> RunConsent {
        let approval = try job.consentJSON.map { try JSONDecoder().decode(ApprovalRecord.self, from: Data($0.utf8)) }
            ?? ApprovalRecord(
                method: job.approvedBy == "trusted_code" ? .trustedCode : job.approvedBy == "session_policy" ? .session : .token,
                at: job.approvedAt ?? job.createdAt, sessionId: job.approvedBy == "session_policy" ? job.approvalDetail : nil)
        let args = try JSONDecoder().decode([String: String].self, from: Data((job.argsJSON ?? "{}").utf8))
        return RunConsent(approval: approval, args: args, createdAt: job.createdAt, approvedAt: job.approvedAt, startedAt: job.executedAt, finishedAt: finishedAt)
    }

    /// A sentence for a failed job's `error`.
    static func failureReason(_ result: RunResult) -> String {
        switch result.outcome {
        case .exitNonzero: "the skill exited with code \(result.exitCode ?? -1)"
        case .timeout: "the skill ran past its \(result.timeoutSeconds) s limit"
        case .outputLimit: "the skill wrote more output than allowed"
        case .heapOOM: "the skill ran out of JavaScript heap"
        case .memoryLimit: "the skill exceeded its memory limit"
        case .pidsLimit: "the skill hit its process/thread limit"
        case .seccompViolation: "the skill made a forbidden system call"
        case .fileSizeLimit: "the skill wrote a file past its size limit"
        case .cpuLimit: "the skill used more CPU time than allowed"
        case .killed: "the skill was killed by \(result.signal ?? "a signal")"
        case .sandboxError: "the sandbox could not start: \(result.error ?? "unknown")"
        case .ok: "ok"
        }
    }
}
