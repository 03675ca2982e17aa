/// Characters that would make the code a person reads differ from the code Deno runs, refused anywhere in
/// a skill's source (not only its header): the approval page shows the source as text, and these render
/// as nothing (or reorder what is around them) while JavaScript gives them meaning.
///
/// - U+2028 and U+2029 end a line for JavaScript but not for HTML: a `//` comment "line" on the page
///   could be code to Deno. (A lone CR is allowed: HTML shows it as a line break, as JavaScript reads it.)
/// - Bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) reorder what is
///   displayed without changing what runs ("Trojan Source", CVE-2021-42574).
/// - Invisible characters (U+00AD, U+0085, U+180E, U+200B–U+200D, U+2060–U+2064, U+FEFF, vertical tab, form
///   feed) hide differences between identifiers or strings that look the same.
enum DeceptiveCharacters {
    static func isDeceptive(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0B, 0x0C, 0x85, 0xAD, 0x061C, 0x180E, 0x200B...0x200F, 0x2028...0x202E, 0x2060...0x2064, 0x2066...0x2069, 0xFEFF: true
        default: false
        }
    }

    /// One problem per line holding such characters (lines as an editor counts them, split at LF), naming
    /// each character and its column.
    static func problems(in text: String) -> [ManifestProblem] {
        var found: [(line: Int, marks: [String])] = []
        var line = 1, column = 1
        for scalar in text.unicodeScalars {
            if isDeceptive(scalar) {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                let mark = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + " at column \(column)"
                if found.last?.line == line { found[found.count - 1].marks.append(mark) } else { found.append((line, [mark])) }
            }
            if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return found.prefix(10).map {
            .init(line: $0.line, tag: nil, message: "invisible or reordering characters are not allowed anywhere in a skill (what the approver reads must be what runs): "
                + $0.marks.joined(separator: ", "))
        }
    }
}
