import Foundation

extension TestNetwork {
    /// Starts `Tests/egress/tls_host.py` in the test network's namespace on `port`, presenting the
    /// certificate chain and key in the PEM files given, and waits until it listens.
    /// - Returns: the path of its request log (`METHOD PATH HOST AUTHORIZATION` per request).
    public func startTLSHost(port: Int, certificate: String, key: String) async throws -> String {
        let log = Fixture.workRoot() + "/tls-\(port).log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let host = Process()
        host.executableURL = URL(fileURLWithPath: try Self.tool("ip"))
        host.arguments = [
            "netns", "exec", Self.name, "python3", Fixture.repository.appendingPathComponent("Tests/egress/tls_host.py").path, String(port),
            certificate, key,
        ]
        host.standardOutput = FileHandle(forWritingAtPath: log)
        // Its stdin is one of the lifelines: it exits when this process does.
        host.standardInput = Self.lifelines[2 + Self.nextLifeline()]
        try host.run()
        try await Self.waitForListener(api, port: UInt16(port))
        return log
    }

    /// The lines a TLS host logged.
    public static func lines(of log: String) -> [String] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    private static let lifelineCounter = LifelineCounter()
    private static func nextLifeline() -> Int { lifelineCounter.next() }
}

/// Hands out the spare lifelines, one per helper started after the network.
private final class LifelineCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var used = 0
    func next() -> Int {
        lock.withLock {
            precondition(used < 4, "no lifeline left for another test helper")
            used += 1
            return used - 1
        }
    }
}
