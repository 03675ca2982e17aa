// The plan (configuration, arguments, filesystem plan, seccomp policy, failures) is the jail's vocabulary:
// whoever applies it sees it as part of the jail.
@_exported import JailPlan

#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Musl)
@_exported import Musl
#endif

/// The current errno as a ``JailFailure`` for `stage`.
func failure(_ stage: JailFailure.Stage, _ detail: String = "") -> JailFailure {
    JailFailure(stage, errno: errno, detail)
}
