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
    /// The egress proxy's unix socket, bound in for jobs that declared hosts (only the bridge connects to it).
    public static let egressSocket = "/run/oauth3/egress.sock"
    /// The job's own interception CA certificate, bound in for jobs holding bound secrets (Deno's `DENO_CERT`).
    public static let interceptionCertificate = "/run/oauth3/interception-ca.pem"
    /// The loopback port the bridge listens on inside the job's network namespace.
    public static let egressPort: UInt16 = 3128
    /// What Deno's `HTTP_PROXY` and `HTTPS_PROXY` say.
    public static var egressProxyURL: String { "http://127.0.0.1:\(egressPort)" }
}
