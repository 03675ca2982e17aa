/// Files copied into a jail's writable directory just before its program starts
/// (``JailConfiguration/seed``): the daemon places them in ``source`` (inside a read-only bind) when it
/// claims the jail, and init copies them, as the job's user, into ``target`` (a tmpfs of the job's own).
///
/// Why a copy and not the files themselves: Deno opens its caches read-write (its V8 code cache is a SQLite
/// database and gives nothing when read-only, measured), and a job must never write what another job
/// will load. The copy is the job's; the original stays the daemon's.
public struct DirectorySeed: Sendable, Hashable {
    /// Path inside the jail's root, read-only to the job; a missing directory seeds nothing.
    public var source: String
    /// Path inside the jail's root, writable by the job (its tmpfs).
    public var target: String
    /// The most a seed may hold: a larger one is not copied at all, rather than fill the job's tmpfs.
    public static let maximumBytes = 64 << 20

    public init(source: String, target: String) {
        self.source = source
        self.target = target
    }
}
