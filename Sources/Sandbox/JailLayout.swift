/// Where things are inside a job's root. The host's paths never appear in the job.
public enum JailLayout {
    /// The Deno binary.
    public static let deno = "/usr/bin/deno"
    /// HOME, a tmpfs; also the working directory, so relative paths reach only the job's own files.
    public static let home = "/home"
    /// TMPDIR, a tmpfs.
    public static let tmp = "/tmp"
    /// DENO_DIR (caches, `localStorage`), a tmpfs: nothing survives into the next job. It starts with a copy
    /// of the daemon's cache for the same code, when there is one (``denoCacheSeed``).
    public static let denoDir = "/deno"
    /// The directory of the egress proxy's socket, bound in read-only (empty for a job without hosts).
    public static let egressDirectory = "/run/oauth3"
    /// The egress proxy's unix socket, present for jobs that declared hosts (only the bridge connects to it;
    /// seccomp keeps Deno from opening unix sockets at all).
    public static let egressSocket = egressDirectory + "/egress.sock"
    /// The job's own interception CA certificate, for jobs holding bound secrets (Deno's `DENO_CERT`); it sits
    /// beside the socket, in the directory every prepared jail already binds.
    public static let interceptionCertificate = egressDirectory + "/interception-ca.pem"
    /// A warm Deno cache the daemon placed for this job (``DenoCache``), beside the socket in the directory
    /// every prepared jail binds read-only; init copies it into ``denoDir`` before Deno starts.
    public static let denoCacheSeed = egressDirectory + "/deno-cache"
    /// A booted jail's preload module (``BootShape/preload``), written by the daemon beside the socket.
    public static let bootPreload = egressDirectory + "/boot.js"
    /// Where init of a booted jail writes the job's script: the name Deno gives a script it reads from
    /// stdin, in the working directory (``home``), so the module is the one a job without a boot would see.
    public static let bootScript = home + "/$deno$stdin.mts"
    /// The loopback port the bridge listens on inside the job's network namespace.
    public static let egressPort: UInt16 = 3128
    /// What Deno's `HTTP_PROXY` and `HTTPS_PROXY` say.
    public static var egressProxyURL: String { "http://127.0.0.1:\(egressPort)" }
}
