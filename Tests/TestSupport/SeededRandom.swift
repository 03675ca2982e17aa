import Foundation

/// A reproducible random number generator for fuzz loops (SplitMix64). The seed comes from
/// `OAUTH3_TEST_SEED` when set, else from the system; every failure message carries ``description``, so a
/// failing run can be replayed exactly with `OAUTH3_TEST_SEED=… swift test --filter …`.
public struct SeededRandom: RandomNumberGenerator, CustomStringConvertible, Sendable {
    public let seed: UInt64
    private var state: UInt64

    public init(seed: UInt64? = nil) {
        let chosen = seed ?? ProcessInfo.processInfo.environment["OAUTH3_TEST_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: .min ... .max)
        self.seed = chosen
        self.state = chosen
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `OAUTH3_TEST_SEED=<seed>`, to quote in a failure message.
    public var description: String { "OAUTH3_TEST_SEED=\(seed)" }
}
