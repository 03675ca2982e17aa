import Foundation
import JailPlan

/// Loads a seccomp profile (`policies/seccomp/<architecture>.json`) into the jail's ``SeccompPolicy``.
///
/// Format `oauth3-seccomp/1`:
/// ```json
/// { "format": "oauth3-seccomp/1", "architecture": "x86_64", "default_action": "errno:ENOSYS",
///   "rules": [ { "comment": "why", "action": "allow", "syscalls": ["read", "write"] },
///              { "action": "allow", "syscalls": ["socket"],
///                "args": [ { "index": 0, "op": "eq", "value": 2 },
///                          { "index": 1, "op": "masked_eq", "mask": 15, "value": 1 } ] } ] }
/// ```
/// Actions: `allow`, `log`, `kill_process` (SIGSYS, reported as `seccomp_violation`), `errno:NAME`.
/// Operators: `eq`, `ne`, `lt`, `le`, `gt`, `ge`, `masked_eq` (`(arg & mask) == value`). A rule applies
/// when every `args` condition holds. Calls no rule matches get `default_action`.
enum SeccompProfile {
    /// The errno names a profile may use.
    static let errnoNames: [String: Int32] = ["EPERM": 1, "ENOENT": 2, "EACCES": 13, "EINVAL": 22, "ENOSYS": 38, "EAFNOSUPPORT": 97]

    static func load(from path: String) throws(SandboxError) -> SeccompPolicy {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .policy("seccomp profile \(path) is missing (one file per supported architecture)")
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw .policy("\(path): not a seccomp profile (\(error))")
        }
        guard file.format == "oauth3-seccomp/1" else { throw .policy("\(path): format must be \"oauth3-seccomp/1\"") }
        guard file.architecture == currentArchitecture else {
            throw .policy("\(path): profile is for \(file.architecture), this machine is \(currentArchitecture)")
        }
        var policy = SeccompPolicy(defaultAction: try action(file.defaultAction, at: "\(path): default_action"))
        for (index, rule) in file.rules.enumerated() {
            let place = "\(path): rules[\(index)]"
            let action = try action(rule.action, at: place)
            var conditions: [SeccompPolicy.Condition] = []
            for (argIndex, arg) in (rule.args ?? []).enumerated() {
                guard let op = SeccompPolicy.Condition.Operator(rawValue: arg.op), (0...5).contains(arg.index) else {
                    throw .policy("\(place).args[\(argIndex)]: index must be 0…5 and op one of \(SeccompPolicy.Condition.Operator.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                guard (op == .maskedEq) == (arg.mask != nil) else {
                    throw .policy("\(place).args[\(argIndex)]: 'mask' goes with masked_eq, and only with it")
                }
                conditions.append(.init(index: UInt32(arg.index), op: op, value: arg.value, mask: arg.mask ?? 0))
            }
            guard !rule.syscalls.isEmpty else { throw .policy("\(place): syscalls is empty") }
            for name in rule.syscalls {
                guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) else {
                    throw .policy("\(place): '\(name)' is not a system call name")
                }
                policy.rules.append(.init(action, name, conditions))
            }
        }
        return policy
    }

    /// The machine's architecture as `uname -m` prints it.
    static var currentArchitecture: String {
        var system = utsname()
        uname(&system)
        return withUnsafeBytes(of: system.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    private static func action(_ text: String, at place: String) throws(SandboxError) -> SeccompPolicy.Action {
        switch text {
        case "allow": return .allow
        case "log": return .log
        case "kill_process": return .killProcess
        default:
            if text.hasPrefix("errno:"), let code = errnoNames[String(text.dropFirst(6))] { return .errno(code) }
            throw .policy("\(place): action '\(text)' is not allow, log, kill_process or errno:{\(errnoNames.keys.sorted().joined(separator: ","))}")
        }
    }

    private struct File: Decodable {
        let format: String
        let architecture: String
        let defaultAction: String
        let rules: [Rule]
        enum CodingKeys: String, CodingKey { case format, architecture, defaultAction = "default_action", rules }
    }

    private struct Rule: Decodable {
        let action: String
        let syscalls: [String]
        let args: [Argument]?
    }

    private struct Argument: Decodable {
        let index: Int
        let op: String
        let value: UInt64
        let mask: UInt64?
    }
}
