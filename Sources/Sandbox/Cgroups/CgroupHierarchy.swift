import Foundation

/// Where this process's cgroups are, and whether the machine uses cgroup v1 or v2.
///
/// A Dstack CVM runs cgroup v2; some hosts (this project's CI among them) still run v1, with one
/// hierarchy per controller. Jobs get a cgroup below the daemon's own, in every controller the sandbox
/// uses: memory (the only real memory bound for Deno), pids, cpu, and cpuacct for CPU time on v1.
public struct CgroupHierarchy: Sendable, Hashable {
    public enum Version: String, Sendable, Hashable { case v1, v2 }

    /// The controllers jobs are limited by.
    public enum Controller: String, Sendable, Hashable, CaseIterable {
        case memory, pids, cpu, cpuacct
    }

    /// On v2, the leaf ``prepare()`` moves the daemon's processes into, beside the jobs' parent.
    static let daemonLeaf = "oauth3-daemon"

    public let version: Version
    /// v2: the one directory jobs are created in (key `nil`). v1: the directory per controller.
    let parents: [Controller: String]
    /// v2's parent directory.
    let unifiedParent: String?

    /// Jobs' parent directories (v1: one per controller hierarchy, `cpu,cpuacct` counted once; v2: one).
    public var parentDirectories: [String] {
        if let unifiedParent { return [unifiedParent] }
        var directories: [String] = []
        for directory in Controller.allCases.compactMap({ parents[$0] }) where !directories.contains(directory) {
            directories.append(directory)
        }
        return directories
    }

    /// Reads `/proc/self/cgroup` and `/proc/self/mountinfo`.
    public static func current(named name: String = "oauth3-enclave") -> CgroupHierarchy? {
        guard let membership = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
            let mounts = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        else { return nil }
        return parse(membership: membership, mountinfo: mounts, name: name)
    }

    /// Works out the parent directories for jobs from the two files' contents (pure, for tests).
    static func parse(membership: String, mountinfo: String, name: String) -> CgroupHierarchy? {
        var v1Mounts: [Controller: String] = [:]
        var v2Mount: String?
        for line in mountinfo.split(separator: "\n") {
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let left = halves[0].split(separator: " "), right = halves[1].split(separator: " ")
            guard left.count >= 5, right.count >= 3 else { continue }
            let mountPoint = String(left[4])
            if right[0] == "cgroup2" { v2Mount = v2Mount ?? mountPoint }
            if right[0] == "cgroup" {
                for option in right[2].split(separator: ",") {
                    if let controller = Controller(rawValue: String(option)) { v1Mounts[controller] = mountPoint }
                }
            }
        }
        var v1Paths: [Controller: String] = [:]
        var v2Path: String?
        for line in membership.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            if fields[0] == "0" && fields[1].isEmpty { v2Path = String(fields[2]) }
            for controller in fields[1].split(separator: ",") {
                if let controller = Controller(rawValue: String(controller)) { v1Paths[controller] = String(fields[2]) }
            }
        }
        func join(_ mount: String, _ path: String) -> String {
            (mount + (path == "/" ? "" : path) + "/" + name).replacingOccurrences(of: "//", with: "/")
        }
        if !v1Mounts.isEmpty {
            var parents: [Controller: String] = [:]
            for controller in Controller.allCases {
                guard let mount = v1Mounts[controller], let path = v1Paths[controller] else { return nil }
                parents[controller] = join(mount, path)
            }
            return CgroupHierarchy(version: .v1, parents: parents, unifiedParent: nil)
        }
        guard let v2Mount, var v2Path else { return nil }
        // A daemon that ``prepare()`` already moved into its leaf (an earlier runner in the same process, or a
        // daemon restarted inside the same container) still owns the cgroup above it: its jobs go beside the
        // leaf, not one level deeper each time.
        if (v2Path as NSString).lastPathComponent == daemonLeaf { v2Path = (v2Path as NSString).deletingLastPathComponent }
        return CgroupHierarchy(version: .v2, parents: [:], unifiedParent: join(v2Mount, v2Path))
    }

    init(version: Version, parents: [Controller: String], unifiedParent: String?) {
        self.version = version
        self.parents = parents
        self.unifiedParent = unifiedParent
    }

    /// A v2 hierarchy rooted at `directory` (tests mount their own).
    public static func v2(parent directory: String) -> CgroupHierarchy {
        CgroupHierarchy(version: .v2, parents: [:], unifiedParent: directory)
    }
}
