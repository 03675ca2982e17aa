import Foundation

/// One job's cgroup: created with its limits before the job starts, read and removed after it ends.
public struct JobCgroup: Sendable {
    /// What the cgroup saw of the job.
    public struct Usage: Sendable, Hashable {
        /// Peak memory, in bytes.
        public var memoryPeakBytes: UInt64?
        /// How many processes the kernel's OOM killer killed for hitting the memory limit.
        public var oomKills: UInt64
        /// How many times a fork or thread creation failed at the pids limit.
        public var pidsLimitHits: UInt64
        public var cpuUserMicroseconds: UInt64?
        public var cpuSystemMicroseconds: UInt64?
    }

    public let hierarchy: CgroupHierarchy
    /// The job's directories (one per v1 controller, or one on v2); the jail joins each.
    public let directories: [String]

    /// Creates `job-<id>` under every parent and writes the limits.
    public static func create(
        in hierarchy: CgroupHierarchy, id: String, memoryBytes: UInt64, pidsMax: Int, cpuCores: Double
    ) throws(SandboxError) -> JobCgroup {
        let cgroup = JobCgroup(hierarchy: hierarchy, directories: hierarchy.parentDirectories.map { $0 + "/job-" + id })
        for directory in cgroup.directories { try CgroupHierarchy.makeDirectory(directory) }
        let quota = max(1000, Int(cpuCores * 100_000))
        switch hierarchy.version {
        case .v1:
            try cgroup.set("memory", "memory.limit_in_bytes", String(memoryBytes))
            // Swap off: memory+swap may not exceed memory. Only present with swap accounting.
            if cgroup.exists("memory", "memory.memsw.limit_in_bytes") {
                try cgroup.set("memory", "memory.memsw.limit_in_bytes", String(memoryBytes))
            }
            try cgroup.set("memory", "memory.swappiness", "0")
            try cgroup.set("pids", "pids.max", String(pidsMax))
            try cgroup.set("cpu", "cpu.cfs_period_us", "100000")
            try cgroup.set("cpu", "cpu.cfs_quota_us", String(quota))
        case .v2:
            try cgroup.set(nil, "memory.max", String(memoryBytes))
            if cgroup.exists(nil, "memory.swap.max") { try cgroup.set(nil, "memory.swap.max", "0") }
            try cgroup.set(nil, "pids.max", String(pidsMax))
            try cgroup.set(nil, "cpu.max", "\(quota) 100000")
        }
        return cgroup
    }

    /// Reads the counters (call after the job ended, before ``destroy()``).
    public func usage() -> Usage {
        switch hierarchy.version {
        case .v1:
            let oom = Self.field("oom_kill", in: read("memory", "memory.oom_control"))
            let cpu = { (file: String) in read("cpuacct", file).flatMap { UInt64($0) }.map { $0 / 1000 } }
            return Usage(
                memoryPeakBytes: read("memory", "memory.max_usage_in_bytes").flatMap { UInt64($0) },
                oomKills: oom ?? 0, pidsLimitHits: Self.field("max", in: read("pids", "pids.events")) ?? 0,
                cpuUserMicroseconds: cpu("cpuacct.usage_user"), cpuSystemMicroseconds: cpu("cpuacct.usage_sys"))
        case .v2:
            let stat = read(nil, "cpu.stat")
            return Usage(
                memoryPeakBytes: read(nil, "memory.peak").flatMap { UInt64($0) },
                oomKills: Self.field("oom_kill", in: read(nil, "memory.events")) ?? 0,
                pidsLimitHits: Self.field("max", in: read(nil, "pids.events")) ?? 0,
                cpuUserMicroseconds: Self.field("user_usec", in: stat), cpuSystemMicroseconds: Self.field("system_usec", in: stat))
        }
    }

    /// Kills every process left in the cgroup and removes its directories. Waits (briefly) until the
    /// kernel has let go of them; a directory that stays busy is reported, never silently leaked.
    @discardableResult
    public func destroy() async -> [String] {
        var leftovers: [String] = []
        for directory in directories {
            let killFile = directory + "/cgroup.kill"
            if hierarchy.version == .v2, FileManager.default.fileExists(atPath: killFile) {
                _ = CgroupHierarchy.write("1", to: killFile)
            }
            var removed = false
            for attempt in 0..<200 {
                for pid in (CgroupHierarchy.read(directory + "/cgroup.procs") ?? "").split(separator: "\n") {
                    if let pid = Int32(pid) { kill(pid, SIGKILL) }
                }
                if rmdir(directory) == 0 || errno == ENOENT { removed = true; break }
                try? await Task.sleep(for: .milliseconds(attempt < 20 ? 1 : 10))
            }
            if !removed { leftovers.append(directory) }
        }
        return leftovers
    }


    private func path(_ controller: String?, _ file: String) -> String {
        guard hierarchy.version == .v1, let controller,
            let parent = hierarchy.parents[CgroupHierarchy.Controller(rawValue: controller)!],
            let index = hierarchy.parentDirectories.firstIndex(of: parent)
        else { return directories[0] + "/" + file }
        return directories[index] + "/" + file
    }

    private func exists(_ controller: String?, _ file: String) -> Bool {
        FileManager.default.fileExists(atPath: path(controller, file))
    }

    private func set(_ controller: String?, _ file: String, _ value: String) throws(SandboxError) {
        guard CgroupHierarchy.write(value, to: path(controller, file)) else {
            throw .cgroup("cannot write '\(value)' to \(path(controller, file)): \(String(cString: strerror(errno)))")
        }
    }

    private func read(_ controller: String?, _ file: String) -> String? {
        CgroupHierarchy.read(path(controller, file))
    }

    /// The number after `name` in a `name value` list (memory.events, pids.events, cpu.stat, memory.oom_control).
    static func field(_ name: String, in text: String?) -> UInt64? {
        for line in (text ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == name { return UInt64(parts[1]) }
        }
        return nil
    }
}
