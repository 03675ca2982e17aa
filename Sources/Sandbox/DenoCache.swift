import Crypto
import Foundation
import JailPlan
import Synchronization

/// Deno's own caches (the transpiled module and V8's code cache) for code that has run before, so that a
/// skill run again starts faster than a cold `deno run` (docs/benchmarks.md).
///
/// **Who writes an entry.** Never a job: a job's `DENO_DIR` is its own tmpfs and vanishes with it. An entry
/// is written by the daemon's cache writer (``SkillRunner/warmDenoCache(for:)``): the same code, in a jail of
/// its own with the job's exact Deno arguments but no secrets, no arguments, no network and no egress
/// bridge, whose only writable host path is a fresh staging directory. So an entry can hold nothing but what
/// that code computes from nothing secret, and one run cannot pass anything to another run through it.
///
/// **Who reads it.** A later job of the same scope (the tenant) with the same key: the scope, Deno's version,
/// Deno's exact argument list and the code's SHA-256 (``Key``). The daemon copies the entry into the
/// job's jail (a read-only directory) when it claims it, and the jail copies that into the job's own tmpfs
/// `DENO_DIR` before Deno starts (``JailPlan/DirectorySeed``): Deno needs its caches writable, and what the
/// job changes in its copy dies with it.
///
/// **What is trusted.** Only entries written by this process: each carries a manifest (every file's size
/// and SHA-256) authenticated with a key that exists only in this process's memory, written last and
/// renamed into place. At start the directory is emptied; an entry whose manifest is missing, fails its
/// MAC, or does not match its files (tampered, partly written) is removed and not used. Entries go with
/// their scope (``remove(scope:)``) and, oldest use first, beyond ``maximumBytes``.
public final class DenoCache: Sendable {
    /// What an entry is for: the same key means Deno would produce the same caches.
    public struct Key: Sendable, Hashable {
        /// The scope's directory name (a digest of the tenant id, so no tenant name reaches the file system).
        let scope: String
        /// The entry's directory name.
        let entry: String

        /// - Parameters:
        ///   - scope: whose entry it is; entries are never shared between scopes.
        ///   - codeSHA256: the hex SHA-256 of the exact source Deno runs.
        ///   - denoVersion: Deno's version (its cache formats and V8 change with it).
        ///   - arguments: Deno's whole argument list (flags change what is emitted and V8's heap settings).
        public init(scope: String, codeSHA256: String, denoVersion: String, arguments: [String]) {
            self.scope = Self.digest(["oauth3-deno-cache-scope-v1", scope])
            self.entry = Self.digest(["oauth3-deno-cache-entry-v1", scope, denoVersion, codeSHA256] + arguments)
        }

        private static func digest(_ parts: [String]) -> String {
            var hasher = SHA256()
            for part in parts {
                hasher.update(data: Data(part.utf8))
                hasher.update(data: [0])
            }
            return hasher.finalize().hex
        }
    }

    /// The directory holding one subdirectory per scope.
    public let directory: String
    /// The run without an entry after which a writer starts: 2 by default, so only code that runs again
    /// costs a writer's run (a tenant sending new code each time would otherwise double its jobs' CPU).
    public let writeAfterRuns: Int
    /// The most all entries together may hold; the least recently used go first.
    public let maximumBytes: Int
    /// Authenticates manifests; never leaves memory, so an entry from another process is never trusted.
    private let key = SymmetricKey(size: .bits256)
    /// Entries in use order (last = most recent) with their sizes, and the keys a writer is busy with.
    private let state = Mutex(State())
    private struct State {
        var entries: [Key: (bytes: Int, used: UInt64)] = [:]
        var writing: Set<Key> = []
        var writers: [Task<Void, Never>] = []
        /// Keys whose writer stored nothing (the code ran past the writer's limit, or Deno was killed): not
        /// tried again by this process.
        var abandoned: Set<Key> = []
        /// Runs without an entry so far, per key (a writer starts at ``writeAfterRuns``).
        var misses: [Key: Int] = [:]
        var tick: UInt64 = 0
    }

    /// The name of an entry's manifest.
    static let manifestName = "MANIFEST"
    /// Which files of a `DENO_DIR` an entry keeps: Deno's three cache databases (with a write-ahead log
    /// if one was left) and the transpiled modules under `gen/`. Nothing else (`localStorage`, npm, …).
    static func isKept(_ relativePath: String) -> Bool {
        if relativePath.hasPrefix("gen/") { return true }
        let databases = ["dep_analysis_cache_v2", "node_analysis_cache_v2", "v8_code_cache_v2"]
        return databases.contains { relativePath == $0 || relativePath == $0 + "-wal" }
    }

    /// The most one entry may hold: half the cache, and never more than a jail copies into a job.
    static func entryLimit(_ maximumBytes: Int) -> Int { min(maximumBytes / 2, DirectorySeed.maximumBytes) }

    /// Opens the cache at `directory`, created 0700 if missing and emptied of whatever an earlier process left.
    /// - Throws: ``SandboxError/workDirectory(_:)`` when the directory cannot be made.
    public init(directory: String, maximumBytes: Int = 256 << 20, writeAfterRuns: Int = 2) throws(SandboxError) {
        self.directory = directory
        self.writeAfterRuns = max(1, writeAfterRuns)
        self.maximumBytes = maximumBytes
        try? FileManager.default.removeItem(atPath: directory)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .workDirectory("cannot create the Deno cache directory \(directory): \(error)")
        }
    }

    func path(of key: Key) -> String { directory + "/" + key.scope + "/" + key.entry }

    /// Copies a verified entry for `key` into `target` (created; readable by everyone, as the job's jail
    /// binds it read-only for the job's user to copy). `false`, copying nothing, when there is no usable
    /// entry; an entry that fails verification is removed.
    func seed(_ key: Key, into target: String) -> Bool {
        guard state.withLock({ $0.entries[key] != nil }) else { return false }
        let entry = path(of: key)
        guard let files = verifiedFiles(in: entry) else {
            forget(key)
            return false
        }
        do {
            for (relative, contents) in files {
                let destination = target + "/" + relative
                try FileManager.default.createDirectory(
                    atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o755])
                guard FileManager.default.createFile(atPath: destination, contents: contents, attributes: [.posixPermissions: 0o644]) else {
                    throw SandboxError.workDirectory("cannot write \(destination)")
                }
            }
        } catch {
            try? FileManager.default.removeItem(atPath: target)
            return false
        }
        state.withLock { state in
            state.tick += 1
            state.entries[key]?.used = state.tick
        }
        return true
    }

    /// Ends a claim of ``beginWriting(_:)`` that stored nothing.
    func abandonWriting(_ key: Key) {
        state.withLock { state in
            state.writing.remove(key)
            if state.abandoned.count >= 10_000 { state.abandoned.removeAll() }
            state.abandoned.insert(key)
        }
    }

    /// Whether `key` has an entry (unverified until it is seeded).
    func contains(_ key: Key) -> Bool { state.withLock { $0.entries[key] != nil } }

    /// Counts a run of `key` without an entry and, from the ``writeAfterRuns``-th, starts `write` as the writer
    /// of `key`'s entry, unless the entry exists or a writer is at work (one at
    /// a time, in the background, so writing caches never takes more than one jail's worth of the machine; a
    /// later run of the same code tries again). `write` must end with ``store(_:from:)`` or
    /// ``abandonWriting(_:)``.
    func startWriting(_ key: Key, _ write: @escaping @Sendable () async -> Void) {
        state.withLock { state in
            guard state.entries[key] == nil, !state.abandoned.contains(key) else { return }
            if state.misses.count >= 10_000 { state.misses.removeAll() }
            state.misses[key, default: 0] += 1
            guard state.misses[key, default: 0] >= writeAfterRuns, state.writing.isEmpty else { return }
            state.misses[key] = nil
            state.writing.insert(key)
            state.writers.removeAll { $0.isCancelled }
            state.writers.append(Task.detached(priority: .utility, operation: write))
        }
    }

    /// Waits for the writers started so far (tests; shutdown, after the scheduler, so no jail is left behind).
    public func finishWriting() async {
        let writers = state.withLock { state in
            defer { state.writers.removeAll() }
            return state.writers
        }
        for writer in writers { await writer.value }
    }

    /// Stores the kept files of a writer's `DENO_DIR` (`source`, on the host) as `key`'s entry, manifest last
    /// and renamed into place, then evicts beyond the size limit. Ends the claim of ``beginWriting(_:)``.
    /// Returns whether an entry was stored (nothing is stored when `source` holds nothing kept, or too much).
    @discardableResult
    func store(_ key: Key, from source: String) -> Bool {
        defer { _ = state.withLock { $0.writing.remove(key) } }
        var files: [(String, Data)] = []
        var total = 0
        for relative in Self.regularFiles(under: source) where Self.isKept(relative) {
            var info = stat()
            guard lstat(source + "/" + relative, &info) == 0, total + Int(info.st_size) <= Self.entryLimit(maximumBytes) else { return false }
            guard let data = FileManager.default.contents(atPath: source + "/" + relative) else { return false }
            total += data.count
            guard total <= Self.entryLimit(maximumBytes) else { return false }
            files.append((relative, data))
        }
        guard !files.isEmpty else { return false }
        let scope = directory + "/" + key.scope
        let staging = scope + "/.writing-" + key.entry
        let fileManager = FileManager.default
        do {
            try? fileManager.removeItem(atPath: staging)
            try fileManager.createDirectory(atPath: staging, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            var manifest = ""
            for (relative, data) in files.sorted(by: { $0.0 < $1.0 }) {
                let destination = staging + "/" + relative
                try fileManager.createDirectory(
                    atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                guard fileManager.createFile(atPath: destination, contents: data) else { throw SandboxError.workDirectory(destination) }
                manifest += "\(SHA256.hash(data: data).hex) \(data.count) \(relative)\n"
            }
            let mac = HMAC<SHA256>.authenticationCode(for: Data(manifest.utf8), using: self.key)
            guard fileManager.createFile(atPath: staging + "/" + Self.manifestName, contents: Data((Array(mac).hex + "\n" + manifest).utf8)) else {
                throw SandboxError.workDirectory(staging)
            }
            try? fileManager.removeItem(atPath: path(of: key))
            try fileManager.moveItem(atPath: staging, toPath: path(of: key))
        } catch {
            try? fileManager.removeItem(atPath: staging)
            return false
        }
        let evicted: [Key] = state.withLock { state in
            state.tick += 1
            state.entries[key] = (total, state.tick)
            var evicted: [Key] = []
            var bytes = state.entries.values.reduce(0) { $0 + $1.bytes }
            for (old, value) in state.entries.sorted(by: { $0.value.used < $1.value.used }) where bytes > maximumBytes && old != key {
                bytes -= value.bytes
                state.entries[old] = nil
                evicted.append(old)
            }
            return evicted
        }
        for old in evicted { try? fileManager.removeItem(atPath: path(of: old)) }
        return true
    }

    /// Removes every entry of `scope` (a tenant that goes).
    public func remove(scope: String) {
        let digest = Key(scope: scope, codeSHA256: "", denoVersion: "", arguments: []).scope
        state.withLock { state in state.entries = state.entries.filter { $0.key.scope != digest } }
        try? FileManager.default.removeItem(atPath: directory + "/" + digest)
    }

    /// The total size of the entries held, in bytes.
    public var bytes: Int { state.withLock { $0.entries.values.reduce(0) { $0 + $1.bytes } } }

    private func forget(_ key: Key) {
        _ = state.withLock { $0.entries.removeValue(forKey: key) }
        try? FileManager.default.removeItem(atPath: path(of: key))
    }

    /// The entry's files with their contents, if its manifest is authentic and names exactly the files
    /// present, each of its size and hash; `nil` otherwise.
    private func verifiedFiles(in entry: String) -> [(String, Data)]? {
        guard let data = FileManager.default.contents(atPath: entry + "/" + Self.manifestName),
            let text = String(data: data, encoding: .utf8), let newline = text.firstIndex(of: "\n")
        else { return nil }
        let manifest = String(text[text.index(after: newline)...])
        let expected = HMAC<SHA256>.authenticationCode(for: Data(manifest.utf8), using: key)
        guard Array(expected).hex == text[..<newline] else { return nil }
        var files: [(String, Data)] = []
        for line in manifest.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 2).map(String.init)
            guard fields.count == 3, let size = Int(fields[1]),
                let contents = FileManager.default.contents(atPath: entry + "/" + fields[2]),
                contents.count == size, SHA256.hash(data: contents).hex == fields[0]
            else { return nil }
            files.append((fields[2], contents))
        }
        let present = Set(Self.regularFiles(under: entry)).subtracting([Self.manifestName])
        guard present == Set(files.map(\.0)) else { return nil }
        return files
    }

    /// Relative paths of the regular files below `root`, walking real directories only (`lstat` at every
    /// level: a symbolic link, FIFO or device is skipped, never followed). The writer's output is read only
    /// after every process of its jail has ended, so nothing changes while it is walked.
    static func regularFiles(under root: String, prefix: String = "") -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
        var out: [String] = []
        for name in names.sorted() {
            var info = stat()
            guard lstat(root + "/" + name, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFREG: out.append(prefix + name)
            case S_IFDIR: out += regularFiles(under: root + "/" + name, prefix: prefix + name + "/")
            default: continue
            }
        }
        return out
    }
}
