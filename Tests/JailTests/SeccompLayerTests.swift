import Foundation
@testable import Jail
import Sandbox
import TestSupport
import Testing

/// The seccomp layer as the kernel applies it: the comparison operators a profile may use, unknown system
/// call names, and the egress bridge's own privilege drop and filter.
@Suite("oauth3-jail: the seccomp layer and the egress bridge", .serialized)
struct SeccompLayerTests {
    /// `socket(AF_INET, …)` (domain 2) under a filter that allows everything except `socket` when `condition`
    /// holds for its arguments, which then fails with EACCES.
    @Test(
        "Each operator compares as the profile format says, on the real kernel (socket's domain is 2)",
        arguments: [
            (SeccompPolicy.Condition(index: 0, op: .eq, value: 2), true), (.init(index: 0, op: .eq, value: 10), false),
            (.init(index: 0, op: .ne, value: 2), false), (.init(index: 0, op: .ne, value: 10), true),
            (.init(index: 0, op: .lt, value: 3), true), (.init(index: 0, op: .lt, value: 2), false),
            (.init(index: 0, op: .le, value: 2), true), (.init(index: 0, op: .le, value: 1), false),
            (.init(index: 0, op: .gt, value: 1), true), (.init(index: 0, op: .gt, value: 2), false),
            (.init(index: 0, op: .ge, value: 2), true), (.init(index: 0, op: .ge, value: 3), false),
            (.init(index: 0, op: .maskedEq, value: 0, mask: 0xF0), true), (.init(index: 0, op: .maskedEq, value: 0, mask: 2), false),
            (.init(index: 1, op: .maskedEq, value: 1, mask: 15), true),  // SOCK_STREAM is 1
        ] as [(SeccompPolicy.Condition, Bool)])
    func operators(condition: SeccompPolicy.Condition, refused: Bool) async throws {
        var harness = try await JailHarness(arguments: ["socket-inet"])
        harness.configuration.seccomp = SeccompPolicy(defaultAction: .allow, rules: [.init(.errno(EACCES), "socket", [condition])])
        let run = try await harness.run()
        #expect(!run.signaled, "\(run.err)")
        #expect(run.out.hasPrefix(refused ? "errno 13 EACCES" : "ok "), "\(condition): \(run.out) \(run.err)")
    }

    @Test("log allows the call; kill_process kills with SIGSYS; errno fails it with that errno")
    func actions() async throws {
        for (action, expected) in [(SeccompPolicy.Action.log, "ok "), (.errno(EAFNOSUPPORT), "errno 97 EAFNOSUPPORT")] {
            var harness = try await JailHarness(arguments: ["socket-inet"])
            harness.configuration.seccomp = SeccompPolicy(defaultAction: .allow, rules: [.init(action, "socket")])
            let run = try await harness.run()
            #expect(!run.signaled && run.out.hasPrefix(expected), "\(action): \(run.out) \(run.err)")
        }
        var killing = try await JailHarness(arguments: ["socket-inet"])
        killing.configuration.seccomp = SeccompPolicy(defaultAction: .allow, rules: [.init(.killProcess, "socket")])
        let killed = try await killing.run()
        #expect(killed.signaled && killed.status == SIGSYS && killed.out.isEmpty, "\(killed)")
    }

    @Test("An unknown system call in an allow rule stops the jail at its seccomp stage; in a refusing rule it is skipped")
    func unknownNames() async throws {
        var allowing = try await JailHarness(arguments: ["ids"])
        allowing.configuration.seccomp.rules.append(.init(.allow, "no_such_call"))
        let refused = try await allowing.runKeepingReport()
        #expect(refused.status == JailFailure.exitCode)
        let failure = try #require(refused.report.flatMap { JailFailure(reportLine: $0.trimmingCharacters(in: .newlines)) })
        #expect(failure.stage == .seccomp && failure.description.contains("unknown system call 'no_such_call' in an allow rule"), "\(failure)")

        var killing = try await JailHarness(arguments: ["ids"])
        killing.configuration.seccomp.rules.append(.init(.killProcess, "no_such_call"))
        let ran = try await killing.run()
        #expect(ran.status == 0 && ran.out.hasPrefix("ok uid=65534"), "\(ran.out) \(ran.err)")
    }

    @Test("The egress bridge runs as the job's user: no capabilities, no_new_privs, and exactly one seccomp filter, its own", arguments: userNamespaceModes)
    func bridgeProcess(userNamespace: Bool) async throws {
        var harness = try await JailHarness(arguments: ["sleep", "5"], userNamespace: userNamespace)
        let port: UInt16 = 3128  // the daemon's own choice; the job's network namespace holds nothing else
        harness.configuration.egressBridge = EgressBridge(port: port, socketPath: "/run/oauth3/egress.sock")
        async let run = harness.run()
        // Init makes the listener and forks the bridge, which then loads its filter (listen is not in it); so
        // the socket is seen before the filter is in place, and for a moment in init too. The holder is looked
        // up again each time and read once its filter is in place, or at the deadline; a bridge that never
        // loads one still fails below. (Read at the first sight of the socket, a loaded machine caught that
        // moment.)
        var bridge: Int32?
        var status = ""
        let deadline = ContinuousClock.now + .seconds(4)
        while ContinuousClock.now < deadline {
            bridge = Self.process(listeningOn: port) ?? bridge
            status = bridge.flatMap { try? String(contentsOfFile: "/proc/\($0)/status", encoding: .utf8) } ?? status
            if Self.fields(of: status)["Seccomp"] == "2" { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let finished = try await run
        #expect(finished.status == 0 && finished.out == "ok\n", "\(finished)")
        let pid = try #require(bridge, "no process of the jail listened on 127.0.0.1:\(port)")
        let fields = Self.fields(of: status)
        #expect(fields["Uid"] == "65534\t65534\t65534\t65534" && fields["Gid"] == "65534\t65534\t65534\t65534", "\(pid): \(status)")
        #expect(fields["Groups"] == "")
        for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] { #expect(fields[set] == "0000000000000000", "\(set)") }
        #expect(fields["NoNewPrivs"] == "1")
        // Mode 2 (filter) with one filter: the bridge's own. Init has none and Deno's is loaded after the fork.
        #expect(fields["Seccomp"] == "2" && fields["Seccomp_filters"] == "1", "\(status)")
    }

    @Test("The bridge's filter kills by default and allows one kind of socket (AF_UNIX stream), nothing that opens, executes or listens")
    func bridgeFilter() async throws {
        let filter = EgressBridge.filter
        #expect(filter.defaultAction == .killProcess)
        let allowed = filter.rules.filter { $0.action == .allow }
        #expect(allowed.filter { $0.syscall == "socket" }.map(\.conditions) == [[
            .init(index: 0, op: .eq, value: UInt64(AF_UNIX)), .init(index: 1, op: .maskedEq, value: UInt64(SOCK_STREAM.rawValue), mask: 15),
        ]])
        let forbidden = ["execve", "execveat", "open", "openat", "openat2", "creat", "bind", "listen", "sendto", "sendmsg", "ptrace", "setuid",
                         "setgid", "prctl", "seccomp", "mount", "unshare", "setns", "bpf", "io_uring_setup", "kill", "socketpair", "vfork"]
        #expect(allowed.filter { forbidden.contains($0.syscall) }.isEmpty, "\(allowed.map(\.syscall))")
        // Compiled and loaded by the real jail in place of the program's filter, it kills the exec that follows.
        var harness = try await JailHarness(arguments: ["ids"])
        harness.configuration.seccomp = filter
        let run = try await harness.run()
        #expect(run.signaled && run.status == SIGSYS && run.out.isEmpty, "\(run)")
    }

    /// The process of the oauth3-jail binary that holds the socket listening on `127.0.0.1:port` in its
    /// network namespace (the jail's init shares the namespace but closed its copy of the listener).
    static func process(listeningOn port: UInt16) -> Int32? {
        let local = String(format: "0100007F:%04X", port)
        for pid in ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init) {
            guard (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) == Fixture.jail,
                  let table = try? String(contentsOfFile: "/proc/\(pid)/net/tcp", encoding: .utf8) else { continue }
            let inodes = table.split(separator: "\n").dropFirst().compactMap { line -> String? in
                let columns = line.split(separator: " ")
                return columns.count > 9 && columns[1] == local && columns[3] == "0A" ? String(columns[9]) : nil
            }
            let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            for fd in descriptors {
                if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"),
                   inodes.contains(where: { target == "socket:[\($0)]" }) {
                    return pid
                }
            }
        }
        return nil
    }

    static func fields(of status: String) -> [String: String] {
        Dictionary(
            status.split(separator: "\n").compactMap { line -> (String, String)? in
                let parts = line.split(separator: ":", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces)) : nil
            }, uniquingKeysWith: { first, _ in first })
    }
}
