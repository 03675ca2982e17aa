import Foundation

/// A job's private directory: HOME, /tmp and DENO_DIR of its own, so no file, cache or `localStorage`
/// survives into the next job. Created 0700 under the work root, removed when the job ends.
public struct JobDirectory: Sendable {
    /// The paths inside one job directory.
    public struct Paths: Sendable, Hashable {
        public let root: String
        public var home: String { root + "/home" }
        public var tmp: String { root + "/tmp" }
        public var denoDir: String { root + "/deno" }
        /// Deno's working directory: empty, so relative imports find nothing.
        public var work: String { root + "/work" }
        /// Where the jail writes why it could not start Deno.
        public var jailReport: String { root + "/jail-report" }

        public init(root: String) { self.root = root }
    }

    public let paths: Paths

    /// Creates a fresh directory under `workRoot` (created 0700 if missing).
    public static func create(under workRoot: String) throws(SandboxError) -> JobDirectory {
        if mkdir(workRoot, 0o700) != 0 && errno != EEXIST {
            throw .workDirectory("cannot create the work root \(workRoot): \(String(cString: strerror(errno)))")
        }
        let id = (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let paths = Paths(root: workRoot + "/job-" + id)
        for path in [paths.root, paths.home, paths.tmp, paths.denoDir, paths.work] where mkdir(path, 0o700) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: paths.root)
            throw .workDirectory("cannot create \(path): \(reason)")
        }
        return JobDirectory(paths: paths)
    }

    /// Removes the directory and everything the job left in it.
    public func remove() {
        try? FileManager.default.removeItem(atPath: paths.root)
    }

    /// Reads the jail's failure report, if it wrote one.
    func jailFailureReport() -> String? {
        guard let data = FileManager.default.contents(atPath: paths.jailReport), !data.isEmpty else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
