/// Collects one output stream up to a cap, and remembers whether more was written.
struct CappedBuffer: Sendable {
    let cap: Int
    private(set) var bytes: [UInt8] = []
    /// Whether the stream wrote more than `cap` bytes.
    private(set) var overflowed = false
    /// Bytes seen in total, kept or not.
    private(set) var totalBytes = 0

    init(cap: Int) {
        self.cap = cap
        bytes.reserveCapacity(min(cap, 64 * 1024))
    }

    /// Appends what fits; returns `true` the first time the cap is exceeded.
    mutating func append(_ chunk: UnsafeRawBufferPointer) -> Bool {
        totalBytes += chunk.count
        let room = cap - bytes.count
        if chunk.count <= room {
            bytes.append(contentsOf: chunk)
            return false
        }
        bytes.append(contentsOf: chunk.prefix(max(room, 0)))
        defer { overflowed = true }
        return !overflowed
    }
}
