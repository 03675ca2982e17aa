/// The program's environment on its way from the daemon to the jail: a length-prefixed block of
/// NUL-terminated `NAME=value` entries at the very start of the jail's stdin, before the script.
///
/// Why not the jail's own environment: the jail is a Swift program, and the Swift runtime and glibc read
/// their environment before `main` runs (`SWIFT_BACKTRACE`, `LD_PRELOAD`, `GLIBC_TUNABLES`, `MALLOC_*`, …).
/// A job's argument names are the agent's choice, and its secrets' values would sit in the jail's
/// `/proc/PID/environ` for the job's whole life. So the daemon starts the jail with an empty environment
/// and sends the program's here; the jail reads exactly the block before anything else (``headerSize``
/// bytes, then the length they give), so the rest of stdin, the script, is what Deno reads.
/// Why stdin rather than a pipe of its own: the daemon already writes the script there, so no further
/// descriptor has to cross the spawn and be closed again in the right processes.
///
/// ```
/// "O3E1"  body length (UInt32, big-endian)  NAME=value\0 NAME=value\0 …
/// ```
/// Names are `[A-Za-z_][A-Za-z0-9_]*` and unique; values hold any byte but NUL. Both sides use this one
/// file: the daemon builds the block with ``encode(_:)``, the jail checks it with ``bodyLength(header:)``
/// and ``entries(in:)``, and a block either refuses is a ``JailFailure`` at stage `environment`.
public enum EnvironmentBlock {
    /// The first four bytes: the format and its version.
    public static let magic: [UInt8] = Array("O3E1".utf8)
    /// Magic and length.
    public static let headerSize = 8
    /// The largest body: `execve` takes at most a quarter of the stack limit (8 MiB by default) for
    /// arguments and environment together, so a larger block could never reach the program anyway.
    public static let maxBodyBytes = 2 << 20

    /// The block for `entries`, header included.
    /// - Throws: ``JailFailure`` (stage `environment`) for a name the jail would refuse, a value holding
    ///   NUL, a repeated name, or a block over ``maxBodyBytes``; nothing of a value is quoted.
    public static func encode(_ entries: [(name: String, value: String)]) throws(JailFailure) -> [UInt8] {
        var body: [UInt8] = []
        for (index, entry) in entries.enumerated() {
            guard isName(entry.name.utf8) else { throw JailFailure(.environment, "entry \(index): the name is not [A-Za-z_][A-Za-z0-9_]*") }
            guard !entry.value.utf8.contains(0) else { throw JailFailure(.environment, "entry \(index) (\(entry.name)): the value holds a NUL byte") }
            body += entry.name.utf8
            body.append(UInt8(ascii: "="))
            body += entry.value.utf8
            body.append(0)
        }
        guard body.count <= maxBodyBytes else { throw tooLarge(body.count) }
        _ = try self.entries(in: body)  // the jail's own check: what we send, it accepts
        let length = UInt32(body.count)
        return magic + [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: length >> $0) } + body
    }

    /// The body length a header announces.
    /// - Throws: ``JailFailure`` when `header` is not ``headerSize`` bytes starting with ``magic``, or
    ///   announces more than ``maxBodyBytes`` (checked before anything is allocated for it).
    public static func bodyLength(header: some Collection<UInt8>) throws(JailFailure) -> Int {
        let bytes = Array(header)
        guard bytes.count == headerSize, Array(bytes.prefix(4)) == magic else {
            throw JailFailure(.environment, "stdin does not start with an environment block (\(String(decoding: magic, as: UTF8.self)))")
        }
        let length = bytes[4...].reduce(0) { $0 << 8 | Int($1) }
        guard length <= maxBodyBytes else { throw tooLarge(length) }
        return length
    }

    /// The entries of `body`, each as the range of its `NAME=value` bytes (its NUL follows the range).
    /// - Throws: ``JailFailure`` naming the first entry that is empty, lacks `NAME=`, has a name outside
    ///   `[A-Za-z_][A-Za-z0-9_]*`, or repeats an earlier name, or a body whose last entry has no NUL.
    public static func entries<Bytes: RandomAccessCollection<UInt8>>(in body: Bytes) throws(JailFailure) -> [Range<Int>]
    where Bytes.Index == Int {
        guard body.isEmpty || body.last == 0 else { throw JailFailure(.environment, "the last entry is not NUL-terminated") }
        var ranges: [Range<Int>] = []
        var names: [[UInt8]: Int] = [:]
        var start = body.startIndex
        while start < body.endIndex {
            let end = body[start...].firstIndex(of: 0)!
            let index = ranges.count
            guard let equals = body[start..<end].firstIndex(of: UInt8(ascii: "=")) else {
                throw JailFailure(.environment, end == start ? "entry \(index) is empty" : "entry \(index) has no NAME=")
            }
            let name = Array(body[start..<equals])
            guard isName(name) else { throw JailFailure(.environment, "entry \(index): the name is not [A-Za-z_][A-Za-z0-9_]*") }
            if let first = names[name] {
                throw JailFailure(.environment, "entry \(index) repeats \(String(decoding: name, as: UTF8.self)) of entry \(first)")
            }
            names[name] = index
            ranges.append(start..<end)
            start = end + 1
        }
        return ranges
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`: a name every shell and libc agree on.
    static func isName(_ bytes: some Collection<UInt8>) -> Bool {
        guard let first = bytes.first, first == UInt8(ascii: "_") || isLetter(first) else { return false }
        return bytes.allSatisfy { $0 == UInt8(ascii: "_") || isLetter($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
    }

    private static func tooLarge(_ length: Int) -> JailFailure {
        JailFailure(.environment, "an environment block of \(length) bytes is larger than the \(maxBodyBytes)-byte limit")
    }
}
