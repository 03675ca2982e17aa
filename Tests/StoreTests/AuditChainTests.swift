import Foundation
import GRDB
@testable import Store
import Testing

@Suite("The audit log is a hash chain")
struct AuditChainTests {
    @Test("Appended entries chain; editing or deleting any entry is detected at that entry")
    func tamperEvident() async throws {
        let queue = try DatabaseQueue()
        let store = try Store(queue)
        for index in 0..<5 {
            try await store.appendAudit(tenant: "t", job: "exec_\(index)", event: "job.created", detail: ["n": "\(index)"], at: Int64(index))
        }
        #expect(try await store.firstBrokenAuditEntry() == nil)
        try await queue.write { db in try db.execute(sql: "UPDATE audit SET detail = '{\"n\":\"9\"}' WHERE seq = 3") }
        #expect(try await store.firstBrokenAuditEntry() == 3)
        try await queue.write { db in
            try db.execute(sql: "DELETE FROM audit")
        }
        for index in 0..<3 {
            try await store.appendAudit(tenant: "t", job: nil, event: "e", detail: [:], at: Int64(index))
        }
        try await queue.write { db in try db.execute(sql: "DELETE FROM audit WHERE seq = (SELECT MIN(seq) + 1 FROM audit)") }
        #expect(try await store.firstBrokenAuditEntry() != nil)
    }
}
