/// Checks an audit chain against itself and against its recorded head (and the head's seal, once the
/// store holds the key): what both stores' `auditIntegrity()` answer.
enum AuditChainCheck {
    static func verify(entries: [AuditRecord], head: (seq: Int64, hash: String, mac: String?)?, seal: AuditSeal) -> AuditIntegrity {
        var previous = String(repeating: "0", count: 64)
        for entry in entries {
            let expected = Store.chainHash(previous: previous, event: entry.event, tenant: entry.tenantId, job: entry.jobId, at: entry.at, detail: entry.detail)
            if entry.previousHash != previous || entry.hash != expected {
                return .broken(at: entry.seq ?? 0, reason: "entry \(entry.seq ?? 0) does not chain to the entry before it")
            }
            previous = entry.hash
        }
        guard let last = entries.last, let lastSeq = last.seq else {
            if let head { return .broken(at: head.seq, reason: "the log is empty, but its recorded head is entry \(head.seq)") }
            return .intact(entries: 0)
        }
        guard let head else { return .broken(at: lastSeq, reason: "the log's recorded head is missing") }
        if head.seq > lastSeq {
            let missing = head.seq == lastSeq + 1 ? "entry \(head.seq) is" : "entries \(lastSeq + 1)…\(head.seq) are"
            return .broken(at: lastSeq + 1, reason: "\(missing) missing: the recorded head is entry \(head.seq)")
        }
        if head.seq < lastSeq { return .broken(at: head.seq + 1, reason: "entries after the recorded head (entry \(head.seq)) were added outside the store") }
        if head.hash != last.hash { return .broken(at: lastSeq, reason: "entry \(lastSeq) is not the recorded head: the chain was rewritten") }
        if seal.isSet {
            guard let mac = head.mac else { return .broken(at: head.seq, reason: "the recorded head is not sealed") }
            guard mac == seal.mac(seq: head.seq, hash: head.hash) else {
                return .broken(at: head.seq, reason: "the recorded head's seal does not verify: the head was rewritten")
            }
        }
        return .intact(entries: entries.count)
    }
}
