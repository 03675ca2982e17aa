/// A seccomp filter as a value: a default action and per-syscall rules with argument conditions.
///
/// The daemon builds it from `policies/seccomp/<arch>.json`; the jail resolves the syscall names with
/// libseccomp and loads it (``Seccomp``). Syscall names libseccomp does not know are an error in an
/// `allow` rule (the job would lose a call it needs) and skipped in any refusing rule (an unknown call
/// falls to the default action, which refuses it anyway).
public struct SeccompPolicy: Sendable, Hashable {
    /// What the filter does with a matching call.
    public enum Action: Sendable, Hashable {
        case allow
        /// Fail the call with this errno.
        case errno(Int32)
        /// Kill the whole process with SIGSYS: for calls no skill has a reason to make, so attempts show.
        case killProcess
        /// Allow, and log to the kernel audit log.
        case log

        /// Whether the action refuses the call (an errno, or killing the process).
        public var isRefusal: Bool {
            switch self {
            case .allow, .log: false
            case .errno, .killProcess: true
            }
        }
    }

    /// A comparison of one syscall argument.
    public struct Condition: Sendable, Hashable {
        public enum Operator: String, Sendable, CaseIterable {
            case eq, ne, lt, le, gt, ge
            case maskedEq = "masked_eq"
        }
        /// Argument index, 0–5.
        public var index: UInt32
        public var op: Operator
        public var value: UInt64
        /// For `masked_eq`: `(argument & mask) == value`.
        public var mask: UInt64

        public init(index: UInt32, op: Operator, value: UInt64, mask: UInt64 = 0) {
            self.index = index
            self.op = op
            self.value = value
            self.mask = mask
        }
    }

    /// One rule: calls to `syscall` whose arguments satisfy every condition get `action`.
    public struct Rule: Sendable, Hashable {
        public var action: Action
        public var syscall: String
        public var conditions: [Condition]

        public init(_ action: Action, _ syscall: String, _ conditions: [Condition] = []) {
            self.action = action
            self.syscall = syscall
            self.conditions = conditions
        }
    }

    /// The action for calls no rule matches. ENOSYS by default, so callers fall back (glibc retries
    /// `clone3` as `clone`) instead of dying.
    public var defaultAction: Action
    public var rules: [Rule]

    public init(defaultAction: Action = .errno(38), rules: [Rule] = []) {
        self.defaultAction = defaultAction
        self.rules = rules
    }
}

extension SeccompPolicy.Action {
    /// `allow`, `kill`, `log`, or `errno=N`.
    public var encoded: String {
        switch self {
        case .allow: "allow"
        case .killProcess: "kill"
        case .log: "log"
        case .errno(let code): "errno=\(code)"
        }
    }

    /// Decodes ``encoded``; `nil` for anything else.
    public init?(encoded: Substring) {
        switch encoded {
        case "allow": self = .allow
        case "kill": self = .killProcess
        case "log": self = .log
        default:
            guard encoded.hasPrefix("errno="), let code = Int32(encoded.dropFirst(6)), (1...4095).contains(code) else { return nil }
            self = .errno(code)
        }
    }
}

extension SeccompPolicy.Rule {
    /// `ACTION/SYSCALL[/INDEX:OP:VALUE[:MASK]]...`
    public var encoded: String {
        ([action.encoded, syscall] + conditions.map { c in
            "\(c.index):\(c.op.rawValue):\(c.value)" + (c.op == .maskedEq ? ":\(c.mask)" : "")
        }).joined(separator: "/")
    }

    /// Decodes ``encoded``; `nil` for anything else.
    public init?(encoded: String) {
        let parts = encoded.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 2, let action = SeccompPolicy.Action(encoded: parts[0]), !parts[1].isEmpty else { return nil }
        var conditions: [SeccompPolicy.Condition] = []
        for part in parts.dropFirst(2) {
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3 || fields.count == 4, let index = UInt32(fields[0]), index < 6,
                let op = SeccompPolicy.Condition.Operator(rawValue: String(fields[1])), let value = UInt64(fields[2]),
                (op == .maskedEq) == (fields.count == 4)
            else { return nil }
            conditions.append(.init(index: index, op: op, value: value, mask: fields.count == 4 ? UInt64(fields[3]) ?? 0 : 0))
        }
        self.init(action, String(parts[1]), conditions)
    }
}
