import JailPlan

/// What a booted jail's Deno started with (``JailConfiguration/booted``): its exact arguments and its
/// settings (the environment before any secret or argument of a job). A job can take a booted jail only
/// of its own shape; jobs of different skills share a shape when their headers grant the same (every skill
/// without hosts, for one). Nothing in it is secret or belongs to a tenant.
struct BootShape: Sendable, Hashable {
    /// Deno's arguments: the job's flags, then the preload module and the script's path instead of `-`.
    let arguments: [String]
    /// Deno's settings, `NAME=value` (``DenoCommand/settingsCount`` entries).
    let settings: [String]

    /// The shape of `deno`, a job's command started after its claim.
    init(_ deno: DenoCommand) {
        arguments = deno.booted.arguments
        settings = deno.environment.prefix(deno.settingsCount).map { "\($0.name)=\($0.value)" }
    }

    /// The settings as Deno's environment at its start.
    var environment: [(name: String, value: String)] {
        settings.map { entry in
            let equals = entry.firstIndex(of: "=")!
            return (String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
        }
    }

    /// Code above this size with a warm Deno cache runs faster in an unbooted jail with that cache copied in
    /// than in a booted jail, whose Deno opened its empty caches at its start: the cache's gain grows with the
    /// code (measured with bare Deno: 4 KiB 3.7 ms, 15 KiB 5.9 ms, 46 KiB 13.7 ms, 152 KiB 52 ms), a boot's
    /// is about 15 ms whatever the code.
    static let warmCacheCodeBytes = 48 << 10

    /// The module a booted Deno runs first (`--preload`): it reads the job's variables from stdin (init's
    /// pipe, `NAME=value\0` entries, then the end), sets them, and returns, after which Deno loads the job's
    /// script as its main module. It leaves nothing behind: its bindings are block-scoped and its buffers zeroed.
    static let preload = """
        // oauth3-enclave: the job's variables, set before its module loads (docs/sandbox.md, "Booted jails").
        {
          const chunks = [];
          const buffer = new Uint8Array(1 << 16);
          for (;;) {
            const count = await Deno.stdin.read(buffer);
            if (count === null) break;
            chunks.push(buffer.slice(0, count));
          }
          const bytes = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
          let offset = 0;
          for (const chunk of chunks) {
            bytes.set(chunk, offset);
            offset += chunk.length;
            chunk.fill(0);
          }
          for (const entry of new TextDecoder().decode(bytes).split("\\0")) {
            if (entry === "") continue;
            const equals = entry.indexOf("=");
            Deno.env.set(entry.slice(0, equals), entry.slice(equals + 1));
          }
          bytes.fill(0);
          buffer.fill(0);
        }

        """
}
