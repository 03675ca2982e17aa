/// Layer: a clean environment. Only the variables the daemon named survive; everything else the jail
/// inherited (including anything a library might read, like `LD_PRELOAD`) is dropped.
enum Environment {
    /// `NAME=value` entries of the current environment whose name is in `names`.
    static func clean(keeping names: [String]) -> [String] {
        let wanted = Set(names)
        var kept: [String] = []
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "="), wanted.contains(String(text[..<equals])) {
                kept.append(text)
            }
            cursor += 1
        }
        return kept
    }

    /// Overwrites this process's original environment block with zeros. `/proc/PID/environ` shows that
    /// block, so init of the job's pid namespace must not keep the secrets readable there.
    static func scrubOriginal() {
        var cursor = environ
        while let entry = cursor.pointee {
            memset(entry, 0, strlen(entry))
            cursor += 1
        }
    }
}
