/// A validated `@secrets` name: an environment variable the skill may read.
///
/// Names that would change how Deno, the dynamic linker or TLS behave are refused, because the
/// sandbox passes secrets as environment variables and a secret called `LD_PRELOAD` or
/// `HTTPS_PROXY` would reconfigure the runtime rather than hold a credential.
public struct SecretName: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The variable name, e.g. `GH_TOKEN`.
    public let rawValue: String

    /// Longest accepted name.
    public static let maxLength = 64

    /// Exact names that configure the runtime.
    static let reservedNames: Set<String> = [
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "PWD", "OLDPWD", "TMPDIR", "TMP", "TEMP", "TERM", "TZ", "TZDIR",
        "LANG", "LANGUAGE", "NO_COLOR", "FORCE_COLOR", "CLICOLOR", "CLICOLOR_FORCE",
        "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "FTP_PROXY",
        "SSL_CERT_FILE", "SSL_CERT_DIR", "GLIBC_TUNABLES", "HOSTALIASES", "RES_OPTIONS", "LOCALDOMAIN",
        "NODE_OPTIONS", "NODE_PATH", "NODE_EXTRA_CA_CERTS", "NODE_TLS_REJECT_UNAUTHORIZED",
        "RUST_BACKTRACE", "RUST_LOG", "RUST_MIN_STACK",
    ]

    /// Prefixes of families of runtime variables.
    static let reservedPrefixes = ["LD_", "DENO_", "LC_", "MALLOC_", "NODE_", "NPM_CONFIG_", "V8_", "XDG_", "OAUTH3_", "RUST_"]

    /// Validates `text` as a secret name.
    /// - Returns: the name, or a sentence saying why it is refused.
    public static func validate(_ text: String) -> Result<SecretName, ManifestValueError> {
        if text.isEmpty { return .failure(.init("a secret name is required")) }
        if text.utf8.count > maxLength {
            return .failure(.init("secret name is longer than \(maxLength) characters"))
        }
        let bytes = Array(text.utf8)
        let head = bytes[0]
        guard head == UInt8(ascii: "_") || isUpper(head),
            bytes.allSatisfy({ isUpper($0) || isDigit($0) || $0 == UInt8(ascii: "_") })
        else {
            return .failure(.init("'\(printable(text))' is not an environment variable name ([A-Z_][A-Z0-9_]*)"))
        }
        if bytes.allSatisfy({ $0 == UInt8(ascii: "_") }) {
            return .failure(.init("'\(text)' is not a usable name"))
        }
        if reservedNames.contains(text) {
            return .failure(.init("'\(text)' configures the runtime and cannot carry a secret"))
        }
        if let prefix = reservedPrefixes.first(where: { text.hasPrefix($0) }) {
            return .failure(.init("names starting with '\(prefix)' configure the runtime and cannot carry a secret"))
        }
        return .success(SecretName(rawValue: text))
    }

    private init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }
    public static func < (lhs: SecretName, rhs: SecretName) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Why a single header value was refused.
public struct ManifestValueError: Error, Sendable, Hashable {
    public let message: String
    init(_ message: String) { self.message = message }
}

func isUpper(_ b: UInt8) -> Bool { b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") }
func isLower(_ b: UInt8) -> Bool { b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") }
func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

/// Shows a value inside an error message without letting control characters through.
func printable(_ text: String, limit: Int = 80) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        if out.count >= limit { return out + "…" }
        if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) || isBidiControl(scalar) {
            out += "\\u{\(String(scalar.value, radix: 16))}"
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// Bidirectional formatting characters ("Trojan Source"), which can make a header read differently from what runs.
func isBidiControl(_ scalar: Unicode.Scalar) -> Bool {
    (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
        || scalar.value == 0x200E || scalar.value == 0x200F || scalar.value == 0x061C
}
