import Foundation

/// A job's private directory on the host: the mount point of its new root and the jail's report file.
/// Everything the job itself can write lives in tmpfs mounts inside its own mount namespace, so nothing
/// it writes survives it. Created under the work root, removed when the job ends.
public struct JobDirectory: Sendable {
    /// The paths inside one job directory.
    public struct Paths: Sendable, Hashable {
        public let root: String
        /// Empty directory the jail mounts the job's root on (owned by the job's uid).
        public var mountPoint: String { root + "/root" }
        /// Where the jail writes why it could not start Deno.
        public var jailReport: String { root + "/jail-report" }
        /// The directory of the job's egress proxy socket, bound read-only into the root at
        /// ``JailLayout/egressDirectory`` when the jail is prepared; the socket appears in it only once a
        /// job with hosts claims the jail.
        public var egressDirectory: String { root + "/egress" }
        /// The job's egress proxy socket (``JailLayout/egressSocket`` inside the root).
        public var egressSocket: String { egressDirectory + "/egress.sock" }
        /// The job's interception CA certificate (public; ``JailLayout/interceptionCertificate`` inside the root).
        public var interceptionCertificate: String { egressDirectory + "/interception-ca.pem" }

        /// A booted jail's preload module (public; ``JailLayout/bootPreload`` inside the root).
        public var bootPreload: String { egressDirectory + "/boot.js" }

        /// Where the daemon places a warm Deno cache for the job (``JailLayout/denoCacheSeed`` inside the root).
        public var denoCacheSeed: String { egressDirectory + "/deno-cache" }
        /// The cache writer's `DENO_DIR` (``DenoCache``): bound read-write into the writer's jail, never a job's.
        public var denoCacheOutput: String { root + "/deno-output" }

        public init(root: String) { self.root = root }
    }

    public let paths: Paths
    /// The random id, also used for the job's cgroup.
    public let id: String

    /// Creates a fresh directory under `workRoot` (created if missing).
    ///
    /// The work root and job directory are 0711: the job's user (inside its user namespace) must traverse
    /// them to reach its mount point, but cannot list them; the report file is 0600 root.
    public static func create(under workRoot: String, owner uid: UInt32, group gid: UInt32) throws(SandboxError) -> JobDirectory {
        if mkdir(workRoot, 0o711) != 0 && errno != EEXIST || chmod(workRoot, 0o711) != 0 {
            throw .workDirectory("cannot create the work root \(workRoot) with mode 0711: \(String(cString: strerror(errno)))")
        }
        let id = (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let paths = Paths(root: workRoot + "/job-" + id)
        guard mkdir(paths.root, 0o711) == 0, chmod(paths.root, 0o711) == 0, mkdir(paths.mountPoint, 0o700) == 0,
            chown(paths.mountPoint, uid, gid) == 0, mkdir(paths.egressDirectory, 0o711) == 0, chmod(paths.egressDirectory, 0o711) == 0
        else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: paths.root)
            throw .workDirectory("cannot create \(paths.root): \(reason)")
        }
        return JobDirectory(paths: paths, id: id)
    }

    /// Removes the directory: a seeded Deno cache or the cache writer's output if present, the report file, the
    /// proxy socket, the CA certificate and three empty directories (everything the job wrote was in its own mount
    /// namespace), so eight system calls for most jobs; anything unexpected falls back to a recursive removal.
    public func remove() {
        for directory in [paths.denoCacheSeed, paths.denoCacheOutput] where access(directory, F_OK) == 0 {
            try? FileManager.default.removeItem(atPath: directory)
        }
        unlink(paths.jailReport)
        unlink(paths.egressSocket)
        unlink(paths.interceptionCertificate)
        if rmdir(paths.mountPoint) == 0 || errno == ENOENT, rmdir(paths.egressDirectory) == 0 || errno == ENOENT, rmdir(paths.root) == 0 { return }
        try? FileManager.default.removeItem(atPath: paths.root)
    }

    /// Reads the jail's failure report, if it wrote one.
    func jailFailureReport() -> String? {
        guard let data = FileManager.default.contents(atPath: paths.jailReport), !data.isEmpty else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
