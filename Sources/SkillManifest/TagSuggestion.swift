/// Suggests the known tag an author probably meant (`@netwrok` → `@network`).
enum TagSuggestion {
    /// The closest known tag within two edits, or one that differs only in case.
    static func closest(to name: String) -> ManifestTag? {
        let lower = name.lowercased()
        if let exact = ManifestTag(rawValue: lower) { return exact }
        // Common singular/plural slips.
        if lower == "secret" { return .secrets }
        let scored = ManifestTag.allCases.map { ($0, distance(lower, $0.rawValue)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 2 else { return nil }
        return best.0
    }

    /// Levenshtein distance, with an adjacent swap counted as one edit.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars.prefix(64)), b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...max(b.count, 1) where j <= b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var best = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { best = min(best, table[i - 2][j - 2] + 1) }
                table[i][j] = best
            }
        }
        return table[a.count][b.count]
    }
}
