import Foundation
import Glibc
import Sandbox

/// Test hosts for the egress tests, all on this machine: a network namespace (made with iproute2) joined
/// to the host by a veth pair and running `Tests/egress/test_host.py` on two addresses, a DNS stub
/// (`Tests/egress/dns_stub.py`) on loopback, and a policy directory whose `egress.json` points the proxy
/// at that stub and widens the test subnet for the test's own names only.
///
/// One per test process, made on first use and torn down at exit; namespaces left by a test process that
/// died are removed on the next start. Its /24 is one no address or route of the machine uses yet.
public struct TestNetwork: Sendable {
    /// The subnet's addresses: the host side, `api.test`, `other.test`.
    public let hostSide: String
    public let api: String
    public let other: String
    /// The port the test host serves HTTP on.
    public let port = 8080
    /// The policy directory for runners that use this network.
    public let policies: String
    /// The test host's request log: one `METHOD PATH HOST` line per request that reached it.
    public let requestLog: String
    /// The DNS stub, `127.0.0.1:PORT`.
    public let nameserver: String

    /// The shared network, started once.
    public static func shared() async throws -> TestNetwork { try await started.value }

    private static let started = Task { try await TestNetwork.start() }
    static let name = "o3t\(getpid())"
    /// The helpers' stdin: they exit when it closes, which happens when this process ends, however it ends.
    nonisolated(unsafe) static let lifelines = [Pipe(), Pipe(), Pipe(), Pipe(), Pipe(), Pipe()]

    /// The names the stub answers, and which of them the policy widens into the test subnet.
    static func zone(subnet: String) -> [String: Any] {
        [
            "api.test": ["\(subnet).2"], "www.api.test": ["\(subnet).2"], "other.test": ["\(subnet).3"],
            "unwidened.test": ["\(subnet).2"], "local.test": ["127.0.0.1"], "metadata.test": ["169.254.169.254"],
            "mapped.test": ["\(subnet).2"], "rebind.test": [["\(subnet).2"], ["127.0.0.1"]],
            "mixed.test": ["\(subnet).2", "127.0.0.1"],
            // Its own name for the resolver's test: rebind.test's answers are consumed by the escape test.
            "changing.test": [["\(subnet).2"], ["127.0.0.1"]],
            // AAAA answers, alone or beside a good A answer: each must be vetted like an IPv4 one.
            "v6loopback.test": ["::1"], "v6mapped.test": ["::ffff:127.0.0.1"], "v6metadata.test": ["fd00:ec2::254"],
            "v6mixed.test": ["\(subnet).2", "fe80::1"],
        ]
    }
    static let widened = ["api.test", "*.api.test", "other.test", "rebind.test", "mixed.test", "v6mixed.test"]

    private static func start() async throws -> TestNetwork {
        removeStale()
        let (hostLink, jobLink) = ("o3h\(getpid())", "o3n\(getpid())")
        let ip = try tool("ip")
        // Test processes of other checkouts may be choosing at the same time: choose under a lock, a /24
        // that no address or route of this machine is in yet, and hold the lock until ours is configured.
        let lock = open("/run/oauth3-test-network.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard lock >= 0, flock(lock, LOCK_EX) == 0 else { throw TestNetworkError("cannot lock /run/oauth3-test-network.lock") }
        defer { close(lock) }
        let used = try await Fixture.execute(ip, ["-o", "-4", "addr", "show"]).out + (try await Fixture.execute(ip, ["-4", "route", "show"]).out)
        guard let third = (20..<250).first(where: { !used.contains("10.231.\($0).") && !used.contains("10.231.\($0)/") }) else {
            throw TestNetworkError("no free /24 in 10.231.0.0/16 for the test network")
        }
        let subnet = "10.231.\(third)"
        for command in [
            ["netns", "add", name],
            ["link", "add", hostLink, "type", "veth", "peer", "name", jobLink],
            ["link", "set", jobLink, "netns", name],
            ["addr", "add", "\(subnet).1/24", "dev", hostLink], ["link", "set", hostLink, "up"],
            ["-n", name, "addr", "add", "\(subnet).2/24", "dev", jobLink],
            ["-n", name, "addr", "add", "\(subnet).3/24", "dev", jobLink],
            ["-n", name, "link", "set", jobLink, "up"], ["-n", name, "link", "set", "lo", "up"],
        ] {
            let result = try await Fixture.execute(ip, command)
            guard result.status == 0 else { throw TestNetworkError("ip \(command.joined(separator: " ")): \(result.err)") }
        }
        atexit { TestNetwork.remove(TestNetwork.name) }

        let directory = Fixture.workRoot()
        let requestLog = directory + "/requests.log"
        FileManager.default.createFile(atPath: requestLog, contents: nil)
        let host = Process()
        host.executableURL = URL(fileURLWithPath: ip)
        host.arguments = ["netns", "exec", name, "python3", Fixture.repository.appendingPathComponent("Tests/egress/test_host.py").path, "8080"]
        host.standardOutput = FileHandle(forWritingAtPath: requestLog)
        host.standardInput = lifelines[0]
        try host.run()

        let zoneFile = directory + "/zone.json"
        try JSONSerialization.data(withJSONObject: zone(subnet: subnet)).write(to: URL(fileURLWithPath: zoneFile))
        let stub = Process()
        let portPipe = Pipe()
        stub.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        stub.arguments = ["python3", Fixture.repository.appendingPathComponent("Tests/egress/dns_stub.py").path, zoneFile]
        stub.standardOutput = portPipe
        stub.standardInput = lifelines[1]
        try stub.run()
        let port = try await Task.detached {
            guard let line = String(data: portPipe.fileHandleForReading.availableData, encoding: .utf8),
                let port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines))
            else { throw TestNetworkError("the DNS stub did not print its port") }
            return port
        }.value

        let policies = directory + "/policies"
        try FileManager.default.copyItem(atPath: Fixture.policies, toPath: policies)
        let egressPath = policies + "/egress.json"
        var egress = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: egressPath))) as! [String: Any]
        egress["nameservers"] = ["127.0.0.1:\(port)"]
        egress["widen"] = [["hosts": widened, "ranges": ["\(subnet).0/24"]]]
        try JSONSerialization.data(withJSONObject: egress, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: egressPath))

        try await waitForListener("\(subnet).2", port: 8080)
        return TestNetwork(
            hostSide: "\(subnet).1", api: "\(subnet).2", other: "\(subnet).3", policies: policies, requestLog: requestLog,
            nameserver: "127.0.0.1:\(port)")
    }

    /// The requests the test host has logged so far.
    public func requests() -> [String] {
        ((try? String(contentsOfFile: requestLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Waits until something accepts TCP connections at `address:port` (the test host starting up).
    static func waitForListener(_ address: String, port: UInt16) async throws {
        for _ in 0..<250 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var target = sockaddr_in()
            target.sin_family = sa_family_t(AF_INET)
            target.sin_port = port.bigEndian
            inet_pton(AF_INET, address, &target.sin_addr)
            let connected = withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if connected == 0 { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestNetworkError("the test host at \(address):\(port) did not start")
    }

    /// Kills what runs in namespace `name` and removes it (its veth pair goes with it).
    static func remove(_ name: String) {
        _ = system("ip netns pids \(name) 2>/dev/null | xargs -r kill -9; ip netns del \(name) 2>/dev/null")
    }

    /// Removes the namespaces of test processes that no longer exist.
    static func removeStale() {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? [] where entry.hasPrefix("o3t") {
            if let pid = Int32(entry.dropFirst(3)), kill(pid, 0) != 0 && errno == ESRCH { remove(entry) }
        }
    }

    static func tool(_ name: String) throws -> String {
        for directory in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        throw TestNetworkError("\(name) is missing: install iproute2 (scripts/setup.sh does)")
    }
}

public struct TestNetworkError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
