import OAuth3Wire

/// Turns what the supervisor and the cgroup saw into an ``Outcome``.
///
/// Exit codes are the script's to choose (`Deno.exit(256)` exits 0), so they come last: first what the
/// jail reported, then the limits the daemon enforced itself, then what the kernel counted and how the
/// process died. A limit that was hit decides the outcome even when the script then exited 0.
enum OutcomeClassifier {
    /// Lines V8 prints to stderr when the heap limit kills it (it then aborts with SIGTRAP).
    static let heapMarkers = ["Fatal JavaScript out of memory", "JavaScript heap out of memory", "Fatal process out of memory"]

    static func classify(_ observation: ProcessObservation, usage: JobCgroup.Usage?, jailFailure: String?) -> Outcome {
        if jailFailure != nil { return .sandboxError }
        if observation.timedOut { return .timeout }
        if observation.outputLimitHit { return .outputLimit }
        if let usage, usage.oomKills > 0 { return .memoryLimit }
        if case .signaled(let signal) = observation.termination {
            switch signal {
            case Signal.sys: return .seccompViolation
            case Signal.xfsz: return .fileSizeLimit
            case Signal.xcpu: return .cpuLimit
            default: break
            }
        }
        if let usage, usage.pidsLimitHits > 0 { return .pidsLimit }
        switch observation.termination {
        case .signaled(let signal):
            // A script cannot raise SIGTRAP or SIGABRT on itself without --allow-run, so together with
            // V8's marker this is the heap limit, not a printed imitation.
            if signal == Signal.trap || signal == Signal.abrt, stderrShowsHeapExhaustion(observation.stderr.bytes) {
                return .heapOOM
            }
            return .killed
        case .exited(let code):
            return code == 0 ? .ok : .exitNonzero
        }
    }

    private static func stderrShowsHeapExhaustion(_ stderr: [UInt8]) -> Bool {
        let tail = String(decoding: stderr.suffix(16 * 1024), as: UTF8.self)
        return heapMarkers.contains { tail.contains($0) }
    }
}

/// Linux signal numbers and names, for classification and results.
enum Signal {
    static let trap: Int32 = 5, abrt: Int32 = 6, kill: Int32 = 9, xcpu: Int32 = 24, xfsz: Int32 = 25, sys: Int32 = 31

    static func name(_ signal: Int32) -> String {
        let names: [Int32: String] = [
            1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
            9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
            24: "SIGXCPU", 25: "SIGXFSZ", 31: "SIGSYS",
        ]
        return names[signal] ?? "SIG\(signal)"
    }
}
