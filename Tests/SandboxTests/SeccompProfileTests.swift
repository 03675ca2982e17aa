import Foundation
import Jail
import Sandbox
import TestSupport
import Testing

/// `policies/seccomp/<arch>.json` through the daemon's loader: the shipped profile loads as written, and
/// each way a profile can be wrong stops the program with the file and the place.
@Suite("Seccomp profiles")
struct SeccompProfileTests {
    static let architecture = String(cString: {
        var system = utsname()
        uname(&system)
        return withUnsafeBytes(of: system.machine) { Array($0.prefix { $0 != 0 }) + [0] }
    }())

    /// A copy of the repository's policies with this machine's profile replaced by `profile` (removed when `nil`).
    static func policies(profile: String?) throws -> (directory: String, file: String) {
        let copy = Fixture.workRoot() + "/policies"
        try FileManager.default.copyItem(atPath: Fixture.policies, toPath: copy)
        let file = copy + "/seccomp/\(architecture).json"
        if let profile { try profile.write(toFile: file, atomically: true, encoding: .utf8) } else { try FileManager.default.removeItem(atPath: file) }
        return (copy, file)
    }

    /// A profile for this machine with `rules` (JSON text) and `defaultAction`.
    static func profile(rules: String, defaultAction: String = "errno:ENOSYS", format: String = "oauth3-seccomp/1", architecture: String = architecture) -> String {
        #"{"format": "\#(format)", "architecture": "\#(architecture)", "default_action": "\#(defaultAction)", "rules": \#(rules)}"#
    }

    @Test("The shipped profile loads rule for rule as the JSON says (read here with JSONSerialization, not the loader)")
    func shippedProfile() throws {
        let path = Fixture.policies + "/seccomp/\(Self.architecture).json"
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        let rules = try #require(json["rules"] as? [[String: Any]])
        var expected: [String] = []
        for rule in rules {
            let action = try #require(rule["action"] as? String)
            let conditions = (rule["args"] as? [[String: Any]] ?? []).map { arg in
                "\(arg["index"]!):\(arg["op"]!):\(arg["value"]!)" + (arg["mask"].map { ":\($0)" } ?? "")
            }
            for name in try #require(rule["syscalls"] as? [String]) { expected.append(([action, name] + conditions).joined(separator: "/")) }
        }
        let loaded = try PolicySet.load(from: Fixture.policies).seccomp
        #expect(json["default_action"] as? String == "errno:ENOSYS" && loaded.defaultAction == .errno(38))
        let shown = loaded.rules.map { rule in
            ([Self.name(rule.action), rule.syscall] + rule.conditions.map { c in
                "\(c.index):\(c.op.rawValue):\(c.value)" + (c.op == .maskedEq ? ":\(c.mask)" : "")
            }).joined(separator: "/")
        }
        #expect(shown.count == expected.count && expected.count > 100, "\(shown.count) rules loaded, \(expected.count) written")
        #expect(shown == expected)
        // The claims docs/sandbox.md makes of it.
        for call in ["ptrace", "bpf", "mount", "unshare", "setns", "keyctl", "userfaultfd", "memfd_create", "execveat", "io_uring_setup"] {
            #expect(loaded.rules.contains { $0.syscall == call && $0.action == .killProcess && $0.conditions.isEmpty }, "\(call) is not on the kill list")
        }
        #expect(!loaded.rules.contains { ["listen", "accept", "accept4"].contains($0.syscall) }, "listen/accept must fall to the default (ENOSYS)")
    }

    static func name(_ action: SeccompPolicy.Action) -> String {
        switch action {
        case .allow: "allow"
        case .log: "log"
        case .killProcess: "kill_process"
        case .errno(let code):
            "errno:" + (["EPERM": 1, "ENOENT": 2, "EACCES": 13, "EINVAL": 22, "ENOSYS": 38, "EAFNOSUPPORT": 97] as [String: Int32]).first { $0.value == code }!.key
        }
    }

    @Test("Every action and operator the format names is loaded into the policy value")
    func everyForm() throws {
        let rules = #"""
            [{"action": "allow", "syscalls": ["read"]},
             {"action": "log", "syscalls": ["getpid"]},
             {"action": "kill_process", "syscalls": ["ptrace"]},
             {"action": "errno:EAFNOSUPPORT", "syscalls": ["socket"], "args": [
               {"index": 0, "op": "eq", "value": 1}, {"index": 1, "op": "ne", "value": 2}, {"index": 2, "op": "lt", "value": 3},
               {"index": 3, "op": "le", "value": 4}, {"index": 4, "op": "gt", "value": 5}, {"index": 5, "op": "ge", "value": 18446744073709551615},
               {"index": 0, "op": "masked_eq", "mask": 240, "value": 16}]}]
            """#
        let (directory, _) = try Self.policies(profile: Self.profile(rules: rules, defaultAction: "kill_process"))
        let policy = try PolicySet.load(from: directory).seccomp
        #expect(policy.defaultAction == .killProcess)
        #expect(policy.rules == [
            .init(.allow, "read"), .init(.log, "getpid"), .init(.killProcess, "ptrace"),
            .init(.errno(97), "socket", [
                .init(index: 0, op: .eq, value: 1), .init(index: 1, op: .ne, value: 2), .init(index: 2, op: .lt, value: 3),
                .init(index: 3, op: .le, value: 4), .init(index: 4, op: .gt, value: 5), .init(index: 5, op: .ge, value: .max),
                .init(index: 0, op: .maskedEq, value: 16, mask: 240),
            ]),
        ])
    }

    @Test("A profile that is missing, malformed or out of the format is refused, naming the file and the place", arguments: [
        (nil, "is missing (one file per supported architecture)"),
        ("not json", "not a seccomp profile"),
        (#"{"format": "oauth3-seccomp/1", "architecture": "x86_64", "default_action": "allow"}"#, "not a seccomp profile"),
        (profile(rules: "[]", format: "oauth3-seccomp/2"), #"format must be "oauth3-seccomp/1""#),
        (profile(rules: "[]", architecture: "riscv64"), "profile is for riscv64, this machine is \(architecture)"),
        (profile(rules: "[]", defaultAction: "deny"), "default_action: action 'deny' is not allow, log, kill_process or errno:{EACCES,EAFNOSUPPORT,EINVAL,ENOENT,ENOSYS,EPERM}"),
        (profile(rules: #"[{"action": "allow", "syscalls": ["read"]}, {"action": "errno:EBADF", "syscalls": ["write"]}]"#), "rules[1]: action 'errno:EBADF'"),
        (profile(rules: #"[{"action": "allow", "syscalls": []}]"#), "rules[0]: syscalls is empty"),
        (profile(rules: #"[{"action": "allow", "syscalls": ["read", "Open"]}]"#), "rules[0]: 'Open' is not a system call name"),
        (profile(rules: #"[{"action": "allow", "syscalls": ["read;write"]}]"#), "rules[0]: 'read;write' is not a system call name"),
        (profile(rules: #"[{"action": "allow", "syscalls": ["socket"], "args": [{"index": 6, "op": "eq", "value": 1}]}]"#), "rules[0].args[0]: index must be 0…5"),
        (profile(rules: #"[{"action": "allow", "syscalls": ["socket"], "args": [{"index": 0, "op": "eq", "value": 1}, {"index": 1, "op": "like", "value": 1}]}]"#),
         "rules[0].args[1]: index must be 0…5 and op one of eq, ne, lt, le, gt, ge, masked_eq"),
        (profile(rules: #"[{"action": "allow", "syscalls": ["socket"], "args": [{"index": 0, "op": "eq", "value": 1, "mask": 3}]}]"#), "rules[0].args[0]: 'mask' goes with masked_eq, and only with it"),
        (profile(rules: #"[{"action": "allow", "syscalls": ["socket"], "args": [{"index": 0, "op": "masked_eq", "value": 1}]}]"#), "rules[0].args[0]: 'mask' goes with masked_eq, and only with it"),
        (profile(rules: #"[{"action": "allow", "syscalls": ["socket"], "args": [{"index": 0, "op": "eq", "value": -1}]}]"#), "not a seccomp profile"),
    ] as [(String?, String)])
    func refused(profile: String?, message: String) throws {
        let (directory, file) = try Self.policies(profile: profile)
        #expect { try PolicySet.load(from: directory) } throws: { error in
            "\(error)".contains(file) && "\(error)".contains(message)
        }
    }
}

/// `policies/limits.json` and the policy hash, beyond what ``PolicySetTests`` covers.
@Suite("Policy files: limits and the policy hash")
struct PolicyLimitsTests {
    func copy(limits change: (String) -> String) throws -> String {
        let copy = Fixture.workRoot() + "/policies"
        try FileManager.default.copyItem(atPath: Fixture.policies, toPath: copy)
        let path = copy + "/limits.json"
        try change(try String(contentsOfFile: path, encoding: .utf8)).write(toFile: path, atomically: true, encoding: .utf8)
        return copy
    }

    @Test("A mistyped field, broken JSON and a default timeout outside 1…maximum are named", arguments: [
        ("\"heap_mib\": 256", "\"heap_mib\": \"256\"", "limits.json: wrong type at sandbox.heap_mib"),
        ("\"gid\": 65534\n  }\n}", "\"gid\": 65534\n  }\n}}", "limits.json: not valid JSON"),
        ("\"default_timeout_seconds\": 30", "\"default_timeout_seconds\": 301", "limits.json: manifest.default_timeout_seconds must be between 1 and max_timeout_seconds"),
        ("\"default_timeout_seconds\": 30", "\"default_timeout_seconds\": 0", "limits.json: manifest.default_timeout_seconds must be between 1 and max_timeout_seconds"),
    ])
    func limitsErrors(original: String, replacement: String, message: String) throws {
        let text = try String(contentsOfFile: Fixture.policies + "/limits.json", encoding: .utf8)
        #expect(text.contains(original), "the fixture no longer contains \(original)")
        let directory = try copy { $0.replacingOccurrences(of: original, with: replacement) }
        #expect { try PolicySet.load(from: directory) } throws: { "\($0)".contains(message) }
    }

    @Test("A missing limits.json or egress.json is named")
    func missingFiles() throws {
        for file in ["limits.json", "egress.json"] {
            let directory = try copy { $0 }
            try FileManager.default.removeItem(atPath: directory + "/" + file)
            #expect { try PolicySet.load(from: directory) } throws: { "\($0)".contains("policy file \(directory)/\(file) is missing") }
        }
    }

    @Test("policy_sha256 is what docs/sandbox.md's shell recipe computes (find, LC_ALL=C sort, sha256sum), here and after a new file")
    func readmeRecipe() async throws {
        let directory = try copy { $0 }
        let recipe = #"""
            cd "$1" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | while read -r f; do
              printf '%s\0%s\n' "$f" "$(sha256sum "$f" | cut -d' ' -f1)"; done | sha256sum | cut -d' ' -f1
            """#
        for round in 0..<2 {
            let shell = try await Fixture.execute("/bin/sh", ["-c", recipe, "sh", directory])
            #expect(shell.status == 0, "\(shell.err)")
            #expect(try PolicySet.load(from: directory).sha256 + "\n" == shell.out, "round \(round)")
            // A file that sorts first by byte ('Z' < 'e') but not in most locales' collation.
            try "x".write(toFile: directory + "/Zeta.txt", atomically: true, encoding: .utf8)
        }
    }
}
