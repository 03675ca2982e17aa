import CJailShims

/// Layer: fresh namespaces, created together by one `clone`, so the child starts inside all of them.
///
/// user (unless the kernel refuses it), mount, pid (the child is init of its own pid namespace: when it
/// exits, the kernel kills everything left in it), ipc, uts, cgroup (the job sees its own cgroup as `/`),
/// and net (an empty network namespace: loopback only) unless the host network is explicitly shared.
enum Namespaces {
    static let newUser: UInt = 0x1000_0000, newMount: UInt = 0x0002_0000, newPID: UInt = 0x2000_0000
    static let newIPC: UInt = 0x0800_0000, newUTS: UInt = 0x0400_0000, newCgroup: UInt = 0x0200_0000
    static let newNet: UInt = 0x4000_0000

    /// The clone flags for `configuration`.
    static func flags(for configuration: JailConfiguration) -> UInt {
        var flags = newMount | newPID | newIPC | newUTS | newCgroup
        if !configuration.unsafeNoUserNamespace { flags |= newUser }
        if !configuration.unsafeShareHostNetwork { flags |= newNet }
        return flags
    }

    /// Clones into the new namespaces (and, on cgroup v2, straight into the job's cgroup). Returns the
    /// child's pid in the parent and 0 in the child.
    static func clone(_ configuration: JailConfiguration, placement: Cgroup.Placement = .inherited) throws(JailFailure) -> pid_t {
        let flags = flags(for: configuration)
        if case .cloneInto(let cgroup) = placement {
            let pid = cjail_clone_into_cgroup(flags, cgroup)
            if pid >= 0 { return pid }
            // Kernels before 5.7 have no CLONE_INTO_CGROUP: migrate the jail instead.
            guard errno == ENOSYS || errno == E2BIG || errno == EINVAL else { throw failure(.clone, "clone3(namespaces, into cgroup)") }
            try Cgroup.join(configuration.cgroups)
        }
        let pid = cjail_clone(flags)
        guard pid >= 0 else { throw failure(.clone, "clone(namespaces)") }
        return pid
    }

    /// Names the job's UTS namespace, so the host's name is not visible.
    static func setHostname(_ name: String) throws(JailFailure) {
        guard sethostname(name, name.utf8.count) == 0 else { throw failure(.hostname, name) }
    }
}
