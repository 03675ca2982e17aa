/// Finds bound secrets' placeholders in bytes that arrive in pieces (a request body, a plain-HTTP stream):
/// it keeps the last few bytes of each piece, so a placeholder split across two pieces is still found.
struct PlaceholderScanner {
    private let secrets: [BoundSecret]
    private let patterns: [[UInt8]]
    private var carry: [UInt8] = []
    private let keep: Int

    init(_ secrets: [BoundSecret]) {
        self.secrets = secrets
        patterns = secrets.map { Array($0.placeholder.utf8) }
        keep = max((patterns.map(\.count).max() ?? 1) - 1, 0)
    }

    /// The first secret whose placeholder appears in `bytes` (a whole text, no carry).
    static func first(in text: String, of secrets: [BoundSecret]) -> BoundSecret? {
        secrets.first { text.contains($0.placeholder) }
    }

    /// Scans the next piece; the secret whose placeholder it completes, if any.
    mutating func scan(_ piece: some Collection<UInt8>) -> BoundSecret? {
        guard !patterns.isEmpty else { return nil }
        let window = carry + piece
        for (index, pattern) in patterns.enumerated() where Self.contains(window, pattern) { return secrets[index] }
        carry = Array(window.suffix(keep))
        return nil
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }
}
