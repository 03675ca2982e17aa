import Foundation
import SkillManifest

/// Removes granted secret values from job output, as `[REDACTED:NAME]`.
///
/// Each value is searched in the forms a script is likely to print: raw, base64 (standard and URL-safe,
/// padded or not) and percent-encoded. When output was truncated, a tail that could be the start of a
/// secret is redacted as well, so a cap cannot cut a secret in half and leak its first part.
/// What it cannot catch: a secret transformed any other way (reversed, split, hashed, XORed). Redaction
/// limits accidents; it is not a boundary against a skill that wants to exfiltrate its own secret.
public struct Redactor: Sendable {
    private let patterns: [(form: [UInt8], replacement: [UInt8])]

    /// Secrets shorter than this are still redacted in full, but not as truncated prefixes (too many false hits).
    static let minimumPrefix = 4

    public init(secrets: [SecretName: String]) {
        var patterns: [(form: [UInt8], replacement: [UInt8])] = []
        for (name, value) in secrets where !value.isEmpty {
            let replacement = Array("[REDACTED:\(name.rawValue)]".utf8)
            for form in Self.forms(of: value) where !patterns.contains(where: { $0.form == form }) {
                patterns.append((form, replacement))
            }
        }
        // Longest first, so a value that contains another is redacted whole.
        self.patterns = patterns.sorted { $0.form.count > $1.form.count }
    }

    /// The encodings of `value` that are searched for: raw; base64 standard and URL-safe, each padded and
    /// not; and percent-encoded the three ways a script meets it (RFC 3986's unreserved set; JavaScript's
    /// `encodeURIComponent`, which leaves `!'()*` alone; `URLSearchParams`/HTML forms, which write a space
    /// as `+` and leave only `*-._` alone), with upper- and lowercase escapes.
    static func forms(of value: String) -> [[UInt8]] {
        let raw = Array(value.utf8)
        let base64 = Data(raw).base64EncodedString()
        let unpadded = base64.replacingOccurrences(of: "=", with: "")
        let urlSafe = base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        let alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        func percent(keeping kept: String) -> String {
            value.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: alphanumerics + kept)) ?? value
        }
        let formEncoded = percent(keeping: "*-._ ").replacingOccurrences(of: " ", with: "+")
        var forms = [raw]
        for text in [base64, unpadded, urlSafe, urlSafe.replacingOccurrences(of: "=", with: "")]
            + [percent(keeping: "-_.~"), percent(keeping: "-_.~!'()*"), formEncoded].flatMap({ [$0, Self.lowercasingEscapes($0)] }) {
            let form = Array(text.utf8)
            if !forms.contains(form) { forms.append(form) }
        }
        return forms
    }

    /// `text` with its `%XX` escapes in lowercase, the rest untouched.
    static func lowercasingEscapes(_ text: String) -> String {
        var out = ""
        var pending = 0
        for character in text {
            if character == "%" { pending = 2; out.append(character); continue }
            if pending > 0 { pending -= 1; out += character.lowercased() } else { out.append(character) }
        }
        return out
    }

    /// Redacts every form of every secret in `bytes`.
    /// - Parameter truncated: whether `bytes` was cut at a cap; then a trailing partial secret is redacted too.
    public func redact(_ bytes: [UInt8], truncated: Bool = false) -> [UInt8] {
        guard !patterns.isEmpty else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        scan: while index < bytes.count {
            for pattern in patterns where bytes.count - index >= pattern.form.count {
                if bytes[index] == pattern.form[0], bytes[index..<(index + pattern.form.count)].elementsEqual(pattern.form) {
                    out += pattern.replacement
                    index += pattern.form.count
                    continue scan
                }
            }
            out.append(bytes[index])
            index += 1
        }
        return truncated ? redactTrailingPrefix(out) : out
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
