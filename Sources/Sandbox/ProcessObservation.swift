/// What the daemon saw of one process: how it ended, what it wrote, and which limits it hit.
struct ProcessObservation: Sendable {
    enum Termination: Sendable, Hashable {
        case exited(Int32)
        case signaled(Int32)
    }
    var termination: Termination
    var stdout: CappedBuffer
    var stderr: CappedBuffer
    var timedOut: Bool
    var outputLimitHit: Bool
    var duration: Duration
}
