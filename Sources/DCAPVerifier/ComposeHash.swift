import Crypto

/// dstack's compose hash: the SHA-256 of the exact bytes of the app-compose.json a CVM booted with.
///
/// dstack's guest (dstack-util, `measure_app_info`) hashes the file as it finds it, with no parsing or
/// normalisation, and extends RTMR3 with it as the `compose-hash` runtime event. So two app-compose files
/// that differ only in whitespace or key order are two different applications. ``AppCompose`` writes the
/// one canonical form; this hashes whatever bytes it is given. It is the only implementation in the
/// package: the development guest agent, `verify --compose` and `compose-hash` all call it.
public enum ComposeHash {
    /// The 32-byte compose hash of `appCompose` (its bytes, exactly).
    public static func of(_ appCompose: some Sequence<UInt8>) -> [UInt8] {
        Array(SHA256.hash(data: Array(appCompose)))
    }
}
