import Foundation

/// Wall-clock time in milliseconds since the epoch, behind a seam so tests can move time (idle sessions,
/// expired approval links) without sleeping.
public protocol WallClock: Sendable {
    func now() -> Int64
}

/// The system clock.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
