#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Musl)
@_exported import Musl
#endif

/// The current errno as a ``JailFailure`` for `stage`.
func failure(_ stage: JailFailure.Stage, _ detail: String = "") -> JailFailure {
    JailFailure(stage, errno: errno, detail)
}
