
/// Stage: a job's copy of files the daemon prepared for it (``JailConfiguration/seed``), made by init after
/// the claim, as the job's user, before the program starts.
///
/// The source sits in a read-only bind the daemon filled when it claimed the jail; the target is the
/// job's own tmpfs. Only regular files and directories are copied (anything else is skipped), never more
/// than ``DirectorySeed/maximumBytes``. A seed is an optimisation (a warm Deno cache): when it cannot be
/// copied whole, what was copied is removed and the program starts without it, as it would with no seed.
enum Seed {
    static func copy(_ seed: DirectorySeed) {
        var total = 0
        guard size(of: seed.source, total: &total), total <= DirectorySeed.maximumBytes else { return }
        if !copyDirectory(seed.source, to: seed.target) { removeContents(of: seed.target) }
    }

    /// Adds up the sizes of the regular files below `path`; `false` when it cannot be read (or is missing).
    private static func size(of path: String, total: inout Int) -> Bool {
        guard let names = entries(of: path) else { return false }
        for name in names {
            var info = stat()
            guard lstat(path + "/" + name, &info) == 0 else { return false }
            switch info.st_mode & S_IFMT {
            case S_IFREG: total += Int(info.st_size)
            case S_IFDIR: guard size(of: path + "/" + name, total: &total) else { return false }
            default: continue
            }
            if total > DirectorySeed.maximumBytes { return false }
        }
        return true
    }

    private static func copyDirectory(_ source: String, to target: String) -> Bool {
        guard let names = entries(of: source) else { return false }
        for name in names {
            let from = source + "/" + name, to = target + "/" + name
            var info = stat()
            guard lstat(from, &info) == 0 else { return false }
            switch info.st_mode & S_IFMT {
            case S_IFREG: guard copyFile(from, to: to) else { return false }
            case S_IFDIR: guard mkdir(to, 0o700) == 0 || errno == EEXIST, copyDirectory(from, to: to) else { return false }
            default: continue
            }
        }
        return true
    }

    private static func copyFile(_ source: String, to target: String) -> Bool {
        let input = open(source, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard input >= 0 else { return false }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard output >= 0 else { return false }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return false }
            if count == 0 { return true }
            var written = 0
            while written < count {
                let step = buffer.withUnsafeBytes { write(output, $0.baseAddress! + written, count - written) }
                if step < 0 && errno == EINTR { continue }
                guard step > 0 else { return false }
                written += step
            }
        }
    }

    /// The names in a directory, without `.` and `..`; `nil` when it cannot be opened.
    private static func entries(of path: String) -> [String]? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Empties `path` (the job's tmpfs) after a failed copy.
    private static func removeContents(of path: String) {
        for name in entries(of: path) ?? [] {
            let child = path + "/" + name
            var info = stat()
            guard lstat(child, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFDIR {
                removeContents(of: child)
                rmdir(child)
            } else {
                unlink(child)
            }
        }
    }
}
