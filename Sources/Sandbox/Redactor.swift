import Foundation
import SkillManifest

/// Removes granted secret values from job output, as `[REDACTED:NAME]`.
///
/// Each value is searched in the spellings `SecretForms` lists: raw, JavaScript-escaped (JSON.stringify and
/// Deno's inspector), each line of a multi-line value, every URL encoding, hex, and base64 in both alphabets,
/// alone or inside a longer encoded plaintext such as a Basic-auth `user:token` (that match is widened to the
/// whole base64 token). Output is redacted whole after the job ends, so a value written in pieces across many
/// writes is found as well. When output was truncated, a tail that could be the start of a secret is redacted
/// too, so a cap cannot cut a secret in half and leak its first part.
/// What it cannot catch: a secret transformed any other way (reversed, split, hashed, XORed, compressed).
/// Redaction limits accidents; it is not a boundary against a skill that wants to exfiltrate its own secret.
/// Bound secrets, which a job never holds, are the real protection.
public struct Redactor: Sendable {
    struct Pattern: Sendable {
        let form: [UInt8]
        let replacement: [UInt8]
        /// A base64 core: a hit is widened to the base64 token around it.
        let widens: Bool
    }

    private let patterns: [Pattern]
    /// Indices into `patterns` by a form's first byte, longest form first.
    private let byFirstByte: [[Int]]

    /// Secrets shorter than this are still redacted in full, but not as truncated prefixes (too many false hits).
    static let minimumPrefix = 4

    public init(secrets: [SecretName: String]) {
        var patterns: [Pattern] = []
        for (name, value) in secrets.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where !value.isEmpty {
            let replacement = Array("[REDACTED:\(name.rawValue)]".utf8)
            for form in SecretForms.exact(value) where !patterns.contains(where: { $0.form == form }) {
                patterns.append(Pattern(form: form, replacement: replacement, widens: false))
            }
            for form in SecretForms.base64Cores(value) where !patterns.contains(where: { $0.form == form }) {
                patterns.append(Pattern(form: form, replacement: replacement, widens: true))
            }
        }
        // Longest first, so a value that contains another is redacted whole.
        self.patterns = patterns.sorted { $0.form.count > $1.form.count }
        var byFirstByte = [[Int]](repeating: [], count: 256)
        for (index, pattern) in self.patterns.enumerated() { byFirstByte[Int(pattern.form[0])].append(index) }
        self.byFirstByte = byFirstByte
    }

    /// Redacts every form of every secret in `bytes`.
    /// - Parameter truncated: whether `bytes` was cut at a cap; then a trailing partial secret is redacted too.
    public func redact(_ bytes: [UInt8], truncated: Bool = false) -> [UInt8] {
        guard !patterns.isEmpty else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        scan: while index < bytes.count {
            for candidate in byFirstByte[Int(bytes[index])] {
                let pattern = patterns[candidate]
                guard bytes.count - index >= pattern.form.count,
                      bytes[index..<(index + pattern.form.count)].elementsEqual(pattern.form) else { continue }
                index += pattern.form.count
                if pattern.widens {
                    while let last = out.last, Self.isBase64(last) { out.removeLast() }
                    while index < bytes.count, Self.isBase64(bytes[index]) || bytes[index] == UInt8(ascii: "=") { index += 1 }
                }
                out += pattern.replacement
                continue scan
            }
            out.append(bytes[index])
            index += 1
        }
        return truncated ? redactTrailingPrefix(out) : out
    }

    /// A character of either base64 alphabet (padding aside).
    static func isBase64(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "-"), UInt8(ascii: "_"): true
        default: false
        }
    }

    /// If the output ends with the first part of a secret, replace that part.
    private func redactTrailingPrefix(_ bytes: [UInt8]) -> [UInt8] {
        var best: (length: Int, replacement: [UInt8])?
        for pattern in patterns where pattern.form.count > Self.minimumPrefix {
            let longest = min(pattern.form.count - 1, bytes.count)
            guard longest >= Self.minimumPrefix else { continue }
            for length in stride(from: longest, through: Self.minimumPrefix, by: -1)
            where bytes.suffix(length).elementsEqual(pattern.form.prefix(length)) {
                if length > (best?.length ?? 0) { best = (length, pattern.replacement) }
                break
            }
        }
        guard let best else { return bytes }
        return Array(bytes.dropLast(best.length)) + best.replacement
    }
}
