import NIOCore
import OAuth3Wire
import Synchronization

/// One job's egress accounting, shared by all of its proxy connections: the connection and byte budgets,
/// and the transcript. Every decision that spends budget takes the lock once, so two connections can
/// never both take the last slot or the last bytes.
final class EgressLedger: Sendable {
    private struct State {
        var transcript = NetworkTranscript()
        var admitted = 0
        var open = 0
    }

    private let state = Mutex(State())
    private let channels = Mutex([ObjectIdentifier: any Channel]())
    let policy: EgressPolicy
    let started = ContinuousClock.now

    /// Refusals cost the job nothing, so their record is bounded instead.
    static let maxRefusalsRecorded = 256

    /// Requests of an intercepted job beyond this many are counted, not listed.
    static let maxRequestsRecorded = 1024

    /// - Parameter recordsRequests: whether the proxy sees the job's HTTP requests (a job holding bound secrets).
    init(policy: EgressPolicy, recordsRequests: Bool = false) {
        self.policy = policy
        if recordsRequests {
            state.withLock {
                $0.transcript.requests = []
                $0.transcript.requestsNotRecorded = 0
            }
        }
    }

    /// Records a request; its index for ``respond(_:status:)``, or `nil` when past the record's bound.
    func record(_ request: NetworkTranscript.Request) -> Int? {
        state.withLock { state in
            guard let count = state.transcript.requests?.count, count < Self.maxRequestsRecorded else {
                state.transcript.requestsNotRecorded = (state.transcript.requestsNotRecorded ?? 0) + 1
                return nil
            }
            state.transcript.requests?.append(request)
            return count
        }
    }

    /// Sets the upstream's status on the request recorded at `index`.
    func respond(_ index: Int, status: Int) {
        state.withLock { $0.transcript.requests?[index].status = status }
    }

    /// Milliseconds since the proxy started.
    var elapsedMs: Int { Self.milliseconds(ContinuousClock.now - started) }

    /// Takes a connection slot, or says which budget is spent.
    func admit() -> EgressRefusal? {
        state.withLock { state in
            if state.transcript.totalBytes >= policy.maxBytes { return .byteLimit(policy.maxBytes) }
            if state.admitted >= policy.maxConnections { return .connectionLimit(policy.maxConnections, concurrent: false) }
            if state.open >= policy.maxConcurrentConnections {
                return .connectionLimit(policy.maxConcurrentConnections, concurrent: true)
            }
            state.admitted += 1
            state.open += 1
            return nil
        }
    }

    /// Charges `count` relayed bytes; `false` when they exceed the budget (the caller then cuts the connection).
    func spend(_ count: Int) -> Bool {
        state.withLock { state in
            state.transcript.totalBytes += count
            return state.transcript.totalBytes <= policy.maxBytes
        }
    }

    /// Gives back a slot and records the finished connection.
    func finish(_ connection: NetworkTranscript.Connection) {
        state.withLock { state in
            state.open -= 1
            state.transcript.connections.append(connection)
        }
    }

    /// Gives back a slot taken by ``admit()`` for a connection that never reached its server.
    func release() {
        state.withLock { $0.open -= 1 }
    }

    func refuse(_ refusal: EgressRefusal, target: ProxyTarget?) {
        let at = elapsedMs
        state.withLock { state in
            guard state.transcript.refused.count < Self.maxRefusalsRecorded else {
                state.transcript.refusalsNotRecorded += 1
                return
            }
            state.transcript.refused.append(
                .init(host: target?.host, port: target?.port, code: refusal.code, reason: refusal.description, atMs: at))
        }
    }

    /// Remembers an open channel, so ``closeAll()`` can end it when the job ends.
    func track(_ channel: any Channel) {
        channels.withLock { $0[ObjectIdentifier(channel)] = channel }
    }

    func untrack(_ channel: any Channel) {
        _ = channels.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Closes every channel still open.
    func closeAll() {
        for channel in channels.withLock({ Array($0.values) }) { channel.close(promise: nil) }
    }

    /// The transcript so far, connections in the order they started.
    var transcript: NetworkTranscript {
        var copy = state.withLock { $0.transcript }
        copy.connections.sort { ($0.startedMs, $0.host) < ($1.startedMs, $1.host) }
        return copy
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
