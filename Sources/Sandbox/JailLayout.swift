/// Where things are inside a job's root. The host's paths never appear in the job.
public enum JailLayout {
    /// The Deno binary.
    public static let deno = "/usr/bin/deno"
    /// HOME, a tmpfs; also the working directory, so relative paths reach only the job's own files.
    public static let home = "/home"
    /// TMPDIR, a tmpfs.
    public static let tmp = "/tmp"
    /// DENO_DIR (caches, `localStorage`), a tmpfs: nothing survives into the next job.
    public static let denoDir = "/deno"
    /// Host files a job that shares the host network needs to resolve names.
    public static let resolverFiles = ["/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf"]
}
