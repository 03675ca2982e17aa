import Foundation

extension CgroupHierarchy {
    /// Creates the jobs' parent directories and, on v2, delegates the controllers to them.
    ///
    /// cgroup v2 lets a cgroup hand controllers to its children only while it holds no processes itself.
    /// The daemon normally sits in the cgroup it was started in (a container's root), so on v2 it first
    /// moves every process of that cgroup into a leaf `<own>/oauth3-daemon` (``daemonLeaf``), then enables memory, pids
    /// and cpu for the children, then for `<own>/oauth3-enclave`, where jobs go.
    /// - Throws: ``SandboxError`` naming the file that could not be written, so the operator knows what to fix.
    public func prepare() throws(SandboxError) {
        switch version {
        case .v1:
            for directory in parentDirectories { try Self.makeDirectory(directory) }
        case .v2:
            guard let parent = unifiedParent else { return }
            let own = (parent as NSString).deletingLastPathComponent
            let wanted = ["memory", "pids", "cpu"]
            let available = Self.read(own + "/cgroup.controllers")?.split(separator: " ").map(String.init) ?? []
            let missing = wanted.filter { !available.contains($0) }
            guard missing.isEmpty else {
                throw .cgroup("cgroup v2 controllers \(missing.joined(separator: ", ")) are not available in \(own) (cgroup.controllers: '\(available.joined(separator: " "))')")
            }
            if !Self.enable(wanted, in: own) {
                let leaf = own + "/" + Self.daemonLeaf
                try Self.makeDirectory(leaf)
                for pid in (Self.read(own + "/cgroup.procs") ?? "").split(separator: "\n") {
                    _ = Self.write(String(pid), to: leaf + "/cgroup.procs")  // a process may have exited meanwhile
                }
                guard Self.enable(wanted, in: own) else {
                    throw .cgroup("cannot enable \(wanted.joined(separator: ", ")) in \(own)/cgroup.subtree_control")
                }
            }
            try Self.makeDirectory(parent)
            guard Self.enable(wanted, in: parent) else {
                throw .cgroup("cannot enable \(wanted.joined(separator: ", ")) in \(parent)/cgroup.subtree_control")
            }
        }
    }

    static func enable(_ controllers: [String], in directory: String) -> Bool {
        let enabled = read(directory + "/cgroup.subtree_control")?.split(separator: " ").map(String.init) ?? []
        if controllers.allSatisfy(enabled.contains) { return true }
        return write(controllers.map { "+" + $0 }.joined(separator: " "), to: directory + "/cgroup.subtree_control")
    }

    static func makeDirectory(_ path: String) throws(SandboxError) {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw .cgroup("cannot create \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes with one `write(2)`, as cgroup files require; `false` on failure.
    static func write(_ text: String, to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return text.withCString { Glibc.write(fd, $0, strlen($0)) } == text.utf8.count
    }
}
