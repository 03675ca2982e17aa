/// Layer: the program's environment, and nothing of the jail's own.
///
/// The jail reads it from stdin first thing (``EnvironmentBlock``: exactly the block, never a byte of the
/// script after it), keeps it in one buffer in memory, and hands it on only as `execve`'s `envp`, pointing
/// into that buffer. Whatever environment the jail itself was started with (the daemon gives it none) never
/// reaches the program. Each jail process that no longer hands the environment on overwrites its copy
/// (``wipe()``): the jail outside once it has cloned init, init once it has forked the program, so neither
/// holds the secrets while the job runs; the egress bridge is forked after that and never has them.
///
/// A class, so that every function of one process refers to the same buffer and one ``wipe()`` clears it.
/// The jail is single-threaded; this never crosses a thread.
final class Environment {
    private let buffer: UnsafeMutableRawBufferPointer
    private let entries: [Range<Int>]

    private init(buffer: UnsafeMutableRawBufferPointer, entries: [Range<Int>]) {
        self.buffer = buffer
        self.entries = entries
    }

    /// Reads the block from `fd`: the header, then exactly the length it announces.
    /// - Throws: ``JailFailure`` (stage `environment`) for a short, malformed or oversized block.
    static func read(from fd: Int32) throws(JailFailure) -> Environment {
        let header = UnsafeMutableRawBufferPointer.allocate(byteCount: EnvironmentBlock.headerSize, alignment: 1)
        defer { header.deallocate() }
        try readExactly(fd, into: header, what: "environment block's header")
        let length = try EnvironmentBlock.bodyLength(header: UnsafeRawBufferPointer(header))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(length, 1), alignment: 1)
        let body = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length])
        do throws(JailFailure) {
            try readExactly(fd, into: body, what: "environment block's body")
            return Environment(buffer: buffer, entries: try EnvironmentBlock.entries(in: UnsafeRawBufferPointer(body)))
        } catch {
            body.initializeMemory(as: UInt8.self, repeating: 0)
            buffer.deallocate()
            throw error
        }
    }

    /// `envp` for `execve`: a pointer to each NUL-terminated entry in the buffer, then `nil`.
    func pointers() -> [UnsafeMutablePointer<CChar>?] {
        let base = buffer.baseAddress!.assumingMemoryBound(to: CChar.self)
        return entries.map { base + $0.lowerBound } + [nil]
    }

    /// How many entries the block holds.
    var count: Int { entries.count }

    /// Whether this block's entries are, byte for byte, the first entries of `other` (a booted jail's
    /// settings must open the job's environment unchanged: ``Boot``).
    func isPrefix(of other: Environment) -> Bool {
        guard entries.count <= other.entries.count else { return false }
        for (mine, theirs) in zip(entries, other.entries) {
            guard mine.count == theirs.count,
                memcmp(buffer.baseAddress! + mine.lowerBound, other.buffer.baseAddress! + theirs.lowerBound, mine.count) == 0
            else { return false }
        }
        return true
    }

    /// Writes every entry after the first `skipped`, each with its NUL, to `fd`, straight from the buffer
    /// (no copy to wipe); `false` when a write fails (the reader is gone).
    func write(entriesAfter skipped: Int, to fd: Int32) -> Bool {
        for entry in entries.dropFirst(skipped) {
            var done = 0
            let length = entry.count + 1  // the NUL after the range
            while done < length {
                let count = Glibc.write(fd, buffer.baseAddress! + entry.lowerBound + done, length - done)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { return false }
                done += count
            }
        }
        return true
    }

    /// Overwrites the buffer with zeros. The process keeps running, so the buffer is not freed (a freed
    /// block could be handed out again before anyone wrote over it).
    func wipe() {
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
    }

    /// Reads until `bytes` is full; a read of 0 before that is the end of stdin.
    static func readExactly(
        _ fd: Int32, into bytes: UnsafeMutableRawBufferPointer, what: String, stage: JailFailure.Stage = .environment
    ) throws(JailFailure) {
        var done = 0
        while done < bytes.count {
            let count = Glibc.read(fd, bytes.baseAddress! + done, bytes.count - done)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw failure(stage, "reading the \(what) from stdin") }
            guard count > 0 else {
                throw JailFailure(stage, "stdin ended after \(done) of \(bytes.count) bytes of the \(what)")
            }
            done += count
        }
    }
}
