/// The new root of a job, as a value: built by the daemon, applied by ``MountNamespace``.
///
/// The root is an empty, size-limited tmpfs on ``stagingDirectory``. Into it go, read-only, exactly the
/// files listed in ``readOnlyFiles`` (Deno and the libraries it links), four device nodes, a fresh
/// `/proc`, and the writable tmpfs mounts of ``tmpfs``. After `pivot_root` the root itself is remounted
/// read-only, so the job can write only where a tmpfs is.
public struct FilesystemPlan: Sendable, Hashable {
    /// A host file made visible inside the root, read-only.
    public struct Bind: Sendable, Hashable {
        public var source: String
        public var target: String
        public init(source: String, target: String) {
            self.source = source
            self.target = target
        }
    }

    /// A writable in-memory filesystem inside the root.
    public struct Tmpfs: Sendable, Hashable {
        public var target: String
        public var sizeBytes: UInt64
        public init(target: String, sizeBytes: UInt64) {
            self.target = target
            self.sizeBytes = sizeBytes
        }
    }

    /// Empty host directory the new root is mounted on (inside the job's mount namespace only).
    public var stagingDirectory: String?
    /// Files bound read-only into the root.
    public var readOnlyFiles: [Bind] = []
    /// Host directories bound read-only into the root (the job's egress socket directory: a socket created
    /// in it after the jail was prepared is visible through the bind).
    public var readOnlyDirectories: [Bind] = []
    /// Host directories bound read-write into the root. Only the daemon's Deno-cache writer uses one (its
    /// `DENO_DIR`, a fresh staging directory nothing else can reach); a job's jail never has one.
    public var writableDirectories: [Bind] = []
    /// Writable tmpfs mounts, owned by the job's user, mode 0700.
    public var tmpfs: [Tmpfs] = []
    /// The device nodes bound into `/dev`.
    public static let devices = ["null", "zero", "random", "urandom"]
    /// Size of the root tmpfs itself (it holds only mount points and is read-only once set up).
    public static let rootSizeBytes: UInt64 = 1 << 20

    public init(stagingDirectory: String? = nil, readOnlyFiles: [Bind] = [], readOnlyDirectories: [Bind] = [], tmpfs: [Tmpfs] = []) {
        self.stagingDirectory = stagingDirectory
        self.readOnlyFiles = readOnlyFiles
        self.readOnlyDirectories = readOnlyDirectories
        self.tmpfs = tmpfs
    }

    /// One step of building the root, in order. Paths are relative to the new root (no leading `/`).
    public enum Step: Sendable, Hashable {
        case directory(String)
        case emptyFile(String)
        case bindReadOnly(source: String, target: String)
        case bindWritable(source: String, target: String)
        case bindDevice(source: String, target: String)
        case tmpfs(target: String, sizeBytes: UInt64)
        case proc(target: String)
    }

    /// The ordered steps that build the root: tmpfs mounts, then binds, devices and `/proc`; parents before
    /// children, each mount point created before its mount.
    public var steps: [Step] {
        var steps: [Step] = []
        var made: Set<String> = []
        func parents(of path: String) {
            var prefix = ""
            for component in path.split(separator: "/").dropLast() {
                prefix += (prefix.isEmpty ? "" : "/") + component
                if made.insert(prefix).inserted { steps.append(.directory(prefix)) }
            }
        }
        func relative(_ path: String) -> String { String(path.drop { $0 == "/" }) }

        // The writable tmpfs first: a file bound below one of them (a library under /tmp or /home on the
        // host) must land inside it, not be hidden by it.
        for mount in tmpfs {
            let target = relative(mount.target)
            parents(of: target)
            if made.insert(target).inserted { steps.append(.directory(target)) }
            steps.append(.tmpfs(target: target, sizeBytes: mount.sizeBytes))
        }
        for bind in readOnlyFiles {
            let target = relative(bind.target)
            parents(of: target)
            steps.append(.emptyFile(target))
            steps.append(.bindReadOnly(source: bind.source, target: target))
        }
        for bind in readOnlyDirectories {
            let target = relative(bind.target)
            parents(of: target)
            if made.insert(target).inserted { steps.append(.directory(target)) }
            steps.append(.bindReadOnly(source: bind.source, target: target))
        }
        for bind in writableDirectories {
            let target = relative(bind.target)
            parents(of: target)
            if made.insert(target).inserted { steps.append(.directory(target)) }
            steps.append(.bindWritable(source: bind.source, target: target))
        }
        parents(of: "dev/x")
        for device in Self.devices {
            steps.append(.emptyFile("dev/" + device))
            steps.append(.bindDevice(source: "/dev/" + device, target: "dev/" + device))
        }
        if made.insert("proc").inserted { steps.append(.directory("proc")) }
        steps.append(.proc(target: "proc"))
        return steps
    }
}
