import CJailShims
import CSeccomp

/// Layer: the seccomp filter, compiled from a ``SeccompPolicy`` with libseccomp and loaded. It must be
/// the last layer (as in nsjail): every call after it, exec included, is filtered, so nothing may follow
/// but exec. Calls from another architecture's ABI (int 0x80, x32) kill the process.
///
/// The job's filter depends only on the policy, so init compiles it while the jail is prepared
/// (``compile(_:)``, libseccomp's BPF generation, about 2 ms) and the program only installs the bytes
/// (``install(_:)``, one `prctl`): the same program libseccomp's own `seccomp_load` would generate and load.
enum Seccomp {
    /// A filter compiled to classic BPF, ready to install.
    struct Compiled {
        let program: [UInt8]
    }

    /// Compiles `policy` to BPF without loading it.
    static func compile(_ policy: SeccompPolicy) throws(JailFailure) -> Compiled {
        let context = try build(policy)
        defer { seccomp_release(context) }
        // seccomp_export_bpf writes to a descriptor: a pipe, read back at once. Non-blocking, so a program
        // larger than the pipe fails here (and the stage says so) instead of hanging.
        var fds: [Int32] = [-1, -1]
        guard cjail_pipe_cloexec(&fds) == 0 else { throw failure(.seccomp, "pipe for the compiled filter") }
        defer { close(fds[0]) }
        _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        let exported = seccomp_export_bpf(context, fds[1])
        close(fds[1])
        guard exported == 0 else { throw JailFailure(.seccomp, errno: -exported, "seccomp_export_bpf") }
        var program: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            program += chunk[0..<count]
        }
        return Compiled(program: program)
    }

    /// Installs a compiled filter on the calling process (`no_new_privs` is already set).
    static func install(_ filter: Compiled) throws(JailFailure) {
        let installed = filter.program.withUnsafeBytes { cjail_install_seccomp_filter($0.baseAddress, UInt($0.count)) }
        guard installed == 0 else { throw failure(.seccomp, "installing the compiled filter") }
    }

    /// Compiles and loads `policy` in one step (the egress bridge's own filter).
    static func load(_ policy: SeccompPolicy) throws(JailFailure) {
        let context = try build(policy)
        defer { seccomp_release(context) }
        let loaded = seccomp_load(context)
        guard loaded == 0 else { throw JailFailure(.seccomp, errno: -loaded, "seccomp_load") }
    }

    /// libseccomp's filter context for `policy` (the caller releases it).
    private static func build(_ policy: SeccompPolicy) throws(JailFailure) -> scmp_filter_ctx {
        guard let context = seccomp_init(action(policy.defaultAction)) else { throw failure(.seccomp, "seccomp_init") }
        do throws(JailFailure) {
            try addRules(policy, to: context)
        } catch {
            seccomp_release(context)
            throw error
        }
        return context
    }

    private static func addRules(_ policy: SeccompPolicy, to context: scmp_filter_ctx) throws(JailFailure) {
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
