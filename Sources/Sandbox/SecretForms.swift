import Foundation

/// The spellings of a secret value that `Redactor` searches job output for.
///
/// Each form is what a skill gets by printing the value through one of the encoders a script meets by accident,
/// not by malice: JavaScript's string escapes (JSON.stringify, and Deno's inspector for a string inside an
/// object or array, in each of its three quote styles), URL encodings (RFC 3986, encodeURIComponent,
/// encodeURI, URLSearchParams, the legacy escape), hex, and base64 in both alphabets. A multi-line value is
/// also searched line by line, since Deno's inspector prints a long multi-line string as one quoted line per
/// line of the value. Base64 of the value *inside* a longer plaintext (`btoa("user:" + token)` of a Basic-auth
/// header, `btoa(token + ":")`) has no fixed spelling, so it is matched by `base64Cores` instead.
enum SecretForms {
    /// A line of a multi-line value shorter than this is not searched on its own (too many false hits,
    /// e.g. a PEM key's short last line); the whole value is still searched in every form.
    static let minimumLine = 8

    /// The fixed spellings of `value`, deduplicated, each to be replaced where it occurs.
    static func exact(_ value: String) -> [[UInt8]] {
        var texts = [value]
        texts += escapedForms(value)
        texts += urlForms(value)
        let raw = Array(value.utf8)
        let hex = raw.map { String(format: "%02x", $0) }.joined()
        texts += [hex, hex.uppercased()]
        let base64 = Data(raw).base64EncodedString()
        let urlSafe = base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        texts += [base64, urlSafe].flatMap { [$0, $0.replacingOccurrences(of: "=", with: "")] }
        for line in lines(of: value) {
            texts += [line] + escapedForms(line)
        }
        var forms: [[UInt8]] = []
        for text in texts where !text.isEmpty {
            let form = Array(text.utf8)
            if !forms.contains(form) { forms.append(form) }
        }
        return forms
    }

    /// Spellings of the base64 (standard and URL-safe) of `value` that appear whatever bytes surround it in
    /// the encoded plaintext: for each of the three alignments a value can start at, the encoding of the whole
    /// 3-byte groups inside it. At least two groups (8 characters) are needed, or the core would match by chance.
    /// A hit covers the middle of a base64 token only; `Redactor` widens it to the whole token, so neither the
    /// characters that mix the value with its neighbours nor the neighbours themselves are left behind.
    static func base64Cores(_ value: String) -> [[UInt8]] {
        let raw = Array(value.utf8)
        var cores: [[UInt8]] = []
        for lead in 0..<3 where raw.count > lead {
            let groups = (raw.count - lead) / 3
            guard groups >= 2 else { continue }
            let core = Data(raw[lead..<(lead + groups * 3)]).base64EncodedString()
            for text in [core, core.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")] {
                let form = Array(text.utf8)
                if !cores.contains(form) { cores.append(form) }
            }
        }
        return cores
    }

    /// The lines of a multi-line value worth searching alone (a `\r` before a newline is not part of a line).
    static func lines(of value: String) -> [String] {
        guard value.contains("\n") else { return [] }
        return value.split(separator: "\n", omittingEmptySubsequences: true)
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
            .filter { $0.utf8.count >= minimumLine }
    }

    /// The value as it appears between the quotes of a JavaScript string literal printed by a runtime:
    /// JSON.stringify (and JSON of that, for a stringified object logged as a string), and Deno's inspector,
    /// which picks `"`, `'` or a backtick as its quote and escapes only the one it picked.
    static func escapedForms(_ value: String) -> [String] {
        let json = jsonEscaped(value)
        var forms = [json, jsonEscaped(json)]
        for quote: Character in ["\"", "'", "`"] { forms.append(inspectEscaped(value, quote: quote)) }
        return forms
    }

    /// JSON.stringify's escaping: `"`, `\`, the short escapes `\b \f \n \r \t`, other C0 controls as `\u00xx`.
    static func jsonEscaped(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Deno's inspector's escaping of a string inside an object or array: `\`, the chosen quote, the short
    /// escapes `\b \f \n \r \t \v`, and other C0 and C1 controls and DEL as `\xhh`.
    static func inspectEscaped(_ value: String, quote: Character) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case _ where Character(scalar) == quote: out += "\\" + String(quote)
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{0B}": out += "\\v"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value):
                out += String(format: "\\x%02x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Percent-encodings: RFC 3986's unreserved set; encodeURIComponent (also `!'()*`); encodeURI (also the
    /// reserved `;,/?:@&=+$#`); URLSearchParams and HTML forms (space as `+`, only `*-._` kept); and the legacy
    /// `escape` (keeps `@*_+-./`, writes UTF-16 code units as `%XX` or `%uXXXX`). Each with upper- and
    /// lowercase escapes, since some encoders and most people write them lowercase.
    static func urlForms(_ value: String) -> [String] {
        let alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        func percent(keeping kept: String) -> String {
            value.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: alphanumerics + kept)) ?? value
        }
        let formEncoded = percent(keeping: "*-._ ").replacingOccurrences(of: " ", with: "+")
        let forms = [percent(keeping: "-_.~"), percent(keeping: "-_.~!'()*"), percent(keeping: "-_.~!'()*;,/?:@&=+$#"),
                     formEncoded, legacyEscape(value, alphanumerics: alphanumerics)]
        return forms.flatMap { [$0, lowercasingEscapes($0)] }
    }

    /// JavaScript's `escape`: UTF-16 code units, `%XX` below 256 and `%uXXXX` above.
    static func legacyEscape(_ value: String, alphanumerics: String) -> String {
        let kept = Set((alphanumerics + "@*_+-./").utf16)
        var out = ""
        for unit in value.utf16 {
            if kept.contains(unit) { out.unicodeScalars.append(Unicode.Scalar(UInt8(unit))) }
            else if unit < 256 { out += String(format: "%%%02X", unit) }
            else { out += String(format: "%%u%04X", unit) }
        }
        return out
    }

    /// `text` with its `%XX` (and `%uXXXX`) escapes' hex digits in lowercase, the rest untouched.
    static func lowercasingEscapes(_ text: String) -> String {
        var out = ""
        var pending = 0
        for character in text {
            if character == "%" { pending = 2; out.append(character); continue }
            if pending > 0 {
                if character == "u" && pending == 2 { pending = 4; out.append(character); continue }
                pending -= 1
                out += character.lowercased()
            } else { out.append(character) }
        }
        return out
    }
}
