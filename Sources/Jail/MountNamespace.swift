import CJailShims

/// Layer: a minimal root. Builds ``FilesystemPlan/steps`` on a fresh tmpfs, pivots into it, detaches the
/// host's tree, and makes the root read-only. Nothing of the host is visible afterwards but the files the
/// plan names: no data directory, no `/var/run/dstack.sock`, no `/dev/tdx_guest`, no `/sys`, no `/etc`.
enum MountNamespace {
    private static let noSuidNoDev = UInt(MS_NOSUID) | UInt(MS_NODEV)

    static func enter(_ plan: FilesystemPlan, uid: UInt32, gid: UInt32) throws(JailFailure) {
        guard let staging = plan.stagingDirectory else { throw JailFailure(.mount, "no staging directory") }
        // Nothing we mount may propagate back to the host.
        try mount(nil, "/", nil, UInt(MS_REC) | UInt(MS_PRIVATE), nil)
        try mount("tmpfs", staging, "tmpfs", noSuidNoDev, "size=\(FilesystemPlan.rootSizeBytes),mode=0755")
        guard chdir(staging) == 0 else { throw failure(.mount, "chdir \(staging)") }
        for step in plan.steps { try apply(step, uid: uid, gid: gid) }
        // pivot_root(".", "."): the old root ends up on top of the new one, and is detached at once.
        guard cjail_pivot_root(".", ".") == 0 else { throw failure(.mount, "pivot_root") }
        guard umount2(".", Int32(MNT_DETACH)) == 0 else { throw failure(.mount, "detaching the host root") }
        guard chdir("/") == 0 else { throw failure(.mount, "chdir /") }
        try mount(nil, "/", nil, UInt(MS_REMOUNT) | UInt(MS_BIND) | UInt(MS_RDONLY) | noSuidNoDev, nil)
    }

    private static func apply(_ step: FilesystemPlan.Step, uid: UInt32, gid: UInt32) throws(JailFailure) {
        switch step {
        case .directory(let path):
            guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw failure(.mount, "mkdir \(path)") }
        case .emptyFile(let path):
            let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o444)
            guard fd >= 0 else { throw failure(.mount, "creating \(path)") }
            close(fd)
        case .bindReadOnly(let source, let target):
            try mount(source, target, nil, UInt(MS_BIND), nil)
            try mount(nil, target, nil, UInt(MS_REMOUNT) | UInt(MS_BIND) | UInt(MS_RDONLY) | noSuidNoDev | lockedFlags(of: target), nil)
        case .bindWritable(let source, let target):
            try mount(source, target, nil, UInt(MS_BIND), nil)
            try mount(nil, target, nil, UInt(MS_REMOUNT) | UInt(MS_BIND) | noSuidNoDev | lockedFlags(of: target), nil)
        case .bindDevice(let source, let target):
            try mount(source, target, nil, UInt(MS_BIND), nil)
        case .tmpfs(let target, let size):
            try mount("tmpfs", target, "tmpfs", noSuidNoDev, "size=\(size),mode=0700,uid=\(uid),gid=\(gid)")
        case .proc(let target):
            try mount("proc", target, "proc", noSuidNoDev | UInt(MS_NOEXEC), nil)
        }
    }

    /// The flags of the mount `path` is on that a remount in a user namespace must keep: the kernel locks
    /// noexec and the atime flags (as it does nosuid and nodev, which every remount here sets) of a mount
    /// that came from the parent namespace, and refuses with EPERM a remount that would clear them. A
    /// container's /dev/shm, where the job's directory and its egress socket live, is noexec.
    private static func lockedFlags(of path: String) -> UInt {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return 0 }
        // glibc's ST_NOEXEC, ST_NOATIME, ST_NODIRATIME, ST_RELATIME (bits/statvfs.h; Swift does not import them).
        let pairs: [(UInt, UInt)] = [(8, UInt(MS_NOEXEC)), (1024, UInt(MS_NOATIME)), (2048, UInt(MS_NODIRATIME)), (4096, UInt(MS_RELATIME))]
        return pairs.reduce(0) { flags, pair in info.f_flag & pair.0 != 0 ? flags | pair.1 : flags }
    }

    private static func mount(_ source: String?, _ target: String, _ type: String?, _ flags: UInt, _ data: String?) throws(JailFailure) {
        let result = data.withOptionalCString { data in
            Glibc.mount(source, target, type, flags, data)
        }
        guard result == 0 else { throw failure(.mount, "mount \(source ?? "-") on \(target)") }
    }
}

extension Optional where Wrapped == String {
    func withOptionalCString<R>(_ body: (UnsafeRawPointer?) -> R) -> R {
        switch self {
        case .none: body(nil)
        case .some(let text): text.withCString { body($0) }
        }
    }
}
