import CSeccomp

/// Layer: the seccomp filter, compiled from a ``SeccompPolicy`` with libseccomp and loaded. It must be
/// the last layer (as in nsjail): every call after it, exec included, is filtered, so nothing may follow
/// but exec. Calls from another architecture's ABI (int 0x80, x32) kill the process.
enum Seccomp {
    static func load(_ policy: SeccompPolicy) throws(JailFailure) {
        guard let context = seccomp_init(action(policy.defaultAction)) else { throw failure(.seccomp, "seccomp_init") }
        defer { seccomp_release(context) }
        guard seccomp_attr_set(context, SCMP_FLTATR_ACT_BADARCH, cseccomp_act_kill_process()) == 0 else {
            throw JailFailure(.seccomp, "setting the bad-architecture action")
        }
        // A binary tree over syscall numbers instead of a linear list: Deno makes thousands of calls at start.
        _ = seccomp_attr_set(context, SCMP_FLTATR_CTL_OPTIMIZE, 2)
        // libseccomp refuses rules that repeat the default action; they are redundant anyway.
        for rule in policy.rules where rule.action != policy.defaultAction {
            let number = seccomp_syscall_resolve_name(rule.syscall)
            if number == __NR_SCMP_ERROR {
                if rule.action.isRefusal { continue }  // unknown to libseccomp: the default action refuses it anyway
                throw JailFailure(.seccomp, "unknown system call '\(rule.syscall)' in an allow rule")
            }
            let comparisons = rule.conditions.map { condition in
                cseccomp_arg(condition.index, compare(condition.op), condition.op == .maskedEq ? condition.mask : condition.value, condition.value)
            }
            let result = comparisons.withUnsafeBufferPointer { buffer in
                seccomp_rule_add_array(context, action(rule.action), number, UInt32(buffer.count), buffer.baseAddress)
            }
            guard result == 0 else {
                throw JailFailure(.seccomp, errno: -result, "rule \(rule.encoded)")
            }
        }
        let loaded = seccomp_load(context)
        guard loaded == 0 else { throw JailFailure(.seccomp, errno: -loaded, "seccomp_load") }
    }

    private static func action(_ action: SeccompPolicy.Action) -> UInt32 {
        switch action {
        case .allow: cseccomp_act_allow()
        case .killProcess: cseccomp_act_kill_process()
        case .log: cseccomp_act_log()
        case .errno(let code): cseccomp_act_errno(UInt16(code))
        }
    }

    private static func compare(_ op: SeccompPolicy.Condition.Operator) -> scmp_compare {
        switch op {
        case .eq: SCMP_CMP_EQ
        case .ne: SCMP_CMP_NE
        case .lt: SCMP_CMP_LT
        case .le: SCMP_CMP_LE
        case .gt: SCMP_CMP_GT
        case .ge: SCMP_CMP_GE
        case .maskedEq: SCMP_CMP_MASKED_EQ
        }
    }
}
