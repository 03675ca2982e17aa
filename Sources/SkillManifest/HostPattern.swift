/// A validated `@network` entry: a DNS name, optionally every subdomain of it (`*.`), and one port.
///
/// The grammar is deliberately narrow, because the value ends up inside Deno's `--allow-net=` list and the
/// egress policy: no commas or whitespace (which would add entries), no schemes or paths, no IP literals or
/// CIDRs (which bypass name-based checks), no `unix:` or `vsock:` targets, no bare `*`, no leading dash.
/// Names are ASCII (internationalised names in their `xn--` form), at least two labels, with an
/// alphabetic top-level label (so `127.1` or `0x7f000001` cannot pass as a name).
///
/// `*.example.com` means the subdomains of example.com at any depth, not example.com itself.
public struct HostPattern: Sendable, Hashable, CustomStringConvertible {
    /// The lowercased name, without the `*.` prefix.
    public let host: String
    /// Whether this pattern covers the subdomains of ``host`` rather than ``host`` itself.
    public let isWildcard: Bool
    /// The one port this pattern allows (443 when the header names none).
    public let port: Int

    /// Port used when an entry names none: HTTPS only.
    public static let defaultPort = 443
    static let maxNameLength = 253

    /// The entry as Deno's `--allow-net` spells it: `host:port` or `*.host:port`.
    public var denoPermission: String { description }

    public var description: String { (isWildcard ? "*." : "") + host + ":" + String(port) }

    /// Whether a connection to `name:port` is within this pattern.
    public func matches(host name: String, port: Int) -> Bool {
        guard port == self.port else { return false }
        let name = name.lowercased()
        if isWildcard { return name.hasSuffix("." + host) }
        return name == host
    }

    /// Whether every connection this pattern admits is also admitted by `other`-covering `self`:
    /// `*.example.com` covers `api.example.com` and `*.api.example.com`; a name covers only itself.
    public func covers(_ other: HostPattern) -> Bool {
        guard port == other.port else { return false }
        if !isWildcard { return !other.isWildcard && other.host == host }
        return other.host == host ? other.isWildcard : other.host.hasSuffix("." + host)
    }

    /// Validates one `@network` value.
    public static func validate(_ text: String) -> Result<HostPattern, ManifestValueError> {
        let shown = printable(text)
        if text.isEmpty { return .failure(.init("a host is required")) }
        if text.hasPrefix("-") { return .failure(.init("'\(shown)' starts with '-', which could be read as a flag")) }
        if text.contains(",") { return .failure(.init("'\(shown)' contains ',': declare one host per @network line")) }
        if text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
            return .failure(.init("'\(shown)' contains whitespace or control characters: declare one host per line"))
        }
        if text.contains("://") { return .failure(.init("'\(shown)' has a scheme: write the host name only")) }
        let lower = text.lowercased()
        for scheme in ["unix:", "vsock:", "file:", "http:", "https:"] where lower.hasPrefix(scheme) {
            return .failure(.init("'\(shown)' is not a network host: only DNS names are allowed"))
        }
        if text.contains("/") { return .failure(.init("'\(shown)' contains '/': paths and CIDR ranges are not allowed")) }
        if text.contains("[") || text.contains("]") || text.filter({ $0 == ":" }).count > 1 {
            return .failure(.init("'\(shown)' looks like an IPv6 address: only DNS names are allowed"))
        }
        if text.contains("@") || text.contains("?") || text.contains("#") || text.contains("%") || text.contains("\\") {
            return .failure(.init("'\(shown)' contains characters that are not part of a host name"))
        }
        guard text.unicodeScalars.allSatisfy(\.isASCII) else {
            return .failure(.init("'\(shown)' is not ASCII: write internationalised names in their xn-- form"))
        }

        var name = Substring(lower)
        var port = defaultPort
        if let colon = name.firstIndex(of: ":") {
            let portText = name[name.index(after: colon)...]
            guard let parsed = parsePort(portText) else {
                return .failure(.init("'\(shown)' has an invalid port: use a number from 1 to 65535"))
            }
            port = parsed
            name = name[..<colon]
        }
        if name == "*" { return .failure(.init("'*' alone would allow every host: name the hosts")) }
        var wildcard = false
        if name.hasPrefix("*.") {
            wildcard = true
            name = name.dropFirst(2)
        }
        if name.contains("*") {
            return .failure(.init("'\(shown)': a wildcard is only allowed as a leading '*.'"))
        }
        if let problem = nameProblem(name, wildcard: wildcard) {
            return .failure(.init("'\(shown)' \(problem)"))
        }
        return .success(HostPattern(host: String(name), isWildcard: wildcard, port: port))
    }

    private init(host: String, isWildcard: Bool, port: Int) {
        self.host = host
        self.isWildcard = isWildcard
        self.port = port
    }

    private static func parsePort(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 5, text.utf8.allSatisfy(isDigit), let value = Int(text),
            (1...65535).contains(value)
        else { return nil }
        return value
    }

    /// Why `name` is not an acceptable DNS name, or `nil` when it is.
    private static func nameProblem(_ name: Substring, wildcard: Bool) -> String? {
        if name.isEmpty { return "has no host name" }
        if name.utf8.count > maxNameLength { return "is longer than \(maxNameLength) characters" }
        if name.hasSuffix(".") { return "ends with '.': write the name without the trailing dot" }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if labels.count < 2 {
            return wildcard
                ? "is too wide: a wildcard needs at least two labels after '*.' (e.g. *.example.com)"
                : "is not a fully qualified name (e.g. api.example.com)"
        }
        for label in labels {
            if label.isEmpty { return "has an empty label" }
            if label.utf8.count > 63 { return "has a label longer than 63 characters" }
            guard label.utf8.allSatisfy({ isLower($0) || isDigit($0) || $0 == UInt8(ascii: "-") }) else {
                return "contains characters not allowed in a host name (letters, digits, '-' and '.')"
            }
            if label.hasPrefix("-") || label.hasSuffix("-") { return "has a label starting or ending with '-'" }
        }
        let top = labels[labels.count - 1]
        if !top.utf8.contains(where: isLower) {
            return "looks like an IP address: only DNS names are allowed"
        }
        if top == "localhost" || name == "localhost" { return "names the local machine" }
        return nil
    }
}
