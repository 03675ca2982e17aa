import Logging
import Store
import Vault

extension JobService {
    /// The HKDF purpose of the row key (docs/design.md): distinct from the secrets' key, the audit seal's and
    /// the approval tokens', so no one of them opens or forges what another protects.
    public static let rowKeyPurpose = "oauth3/rows/v1"

    /// Hands the store the row key (before any job is recovered or claimed), and counts and announces every
    /// row it refuses: `oauth3_integrity_violations_total`, and a long-poll on a job failed for it wakes.
    func protectRows() async throws {
        let metrics = self.metrics, events = self.events, logger = self.logger
        store.onIntegrityViolation { violation in
            metrics.integrityViolation(table: violation.table)
            logger.error("refused a row changed outside the enclave", metadata: ["table": "\(violation.table)", "row": "\(violation.row)", "reason": "\(violation.reason)"])
            if violation.table == "job" { Task { await events.changed(violation.row) } }
        }
        switch try await store.protectRows(with: vault.derivedKey(for: Self.rowKeyPurpose), at: clock.now()) {
        case .alreadyProtected: break
        case .protectedNow(let rows):
            if rows > 0 { logger.warning("sealed and authenticated the rows written before row protection, trusting them as they stood", metadata: ["rows": "\(rows)"]) }
        case .refused:
            logger.error("the audit log is broken: rows written before row protection were not converted, and are refused")
        }
    }
}
