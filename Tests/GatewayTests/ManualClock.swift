import Gateway
import Synchronization

/// A wall clock the test moves by hand.
final class ManualClock: WallClock {
    private let milliseconds: Mutex<Int64>
    init(start: Int64) { milliseconds = Mutex(start) }
    func now() -> Int64 { milliseconds.withLock { $0 } }
    func advance(seconds: Int64) { milliseconds.withLock { $0 += seconds * 1000 } }
}
