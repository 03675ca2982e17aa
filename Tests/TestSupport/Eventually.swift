import Testing

/// Waits until `condition` holds, polling: a readiness signal instead of a sleep that guesses how long
/// something takes. Throws (failing the test, naming `what`) if it does not hold within `limit`.
public func waitUntil(
    _ what: @autoclosure () -> String, within limit: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + limit
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            throw WaitTimeout(description: "not within \(limit): \(what())")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

public struct WaitTimeout: Error, CustomStringConvertible {
    public let description: String
}
