import Store

/// Whose job runs next: tenants in turn, so one tenant's long jobs cannot hold every worker.
///
/// A pure rule over the queue's per-tenant picture, applied inside the store's claim transaction.
/// Order: the tenant with the fewest jobs running; among those, the one served least recently; then
/// the one whose oldest job has waited longest. While more than one tenant has work, none may run more
/// than ``tenantCap`` jobs at once; a tenant alone may use every worker.
public struct FairShare: Sendable, Hashable {
    /// Jobs one tenant may run at once while another tenant has work too.
    public var tenantCap: Int

    /// - Parameter tenantCap: at least 1.
    public init(tenantCap: Int) {
        self.tenantCap = max(1, tenantCap)
    }

    /// The default cap for `workers`: one less than the workers (so another tenant always finds one free
    /// as soon as any job ends), and 1 for a single worker.
    public static func defaultCap(workers: Int) -> Int { max(1, workers - 1) }

    /// The tenant whose oldest approved job should start now, or `nil` when no tenant may start one.
    public func choose(_ states: [TenantQueueState]) -> String? {
        let active = states.filter { $0.waiting > 0 || $0.running > 0 }
        let cap = active.count > 1 ? tenantCap : Int.max
        return active
            .filter { $0.waiting > 0 && $0.running < cap }
            .min { a, b in
                if a.running != b.running { return a.running < b.running }
                // Never served sorts first.
                let servedA = a.lastStartedAt ?? .min, servedB = b.lastStartedAt ?? .min
                if servedA != servedB { return servedA < servedB }
                let waitedA = a.oldestApprovedAt ?? .max, waitedB = b.oldestApprovedAt ?? .max
                if waitedA != waitedB { return waitedA < waitedB }
                return a.tenantId < b.tenantId
            }?.tenantId
    }
}
