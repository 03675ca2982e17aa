/// A reply with `warnings` beside its own fields: the request's fields that the enclave does not read
/// (``RequestBody/unknownFields(of:in:)``), so an agent learns that its `skillCode` or `timeout_ms` did
/// nothing instead of it being dropped without a word. No warnings, no `warnings` key.
struct Warned<Reply: Encodable>: Encodable {
    let reply: Reply
    let warnings: [String]

    init(_ reply: Reply, warnings: [String]) {
        self.reply = reply
        self.warnings = warnings
    }

    private enum Key: String, CodingKey { case warnings }

    /// The reply's own keys, then `warnings` in the same object.
    func encode(to encoder: any Encoder) throws {
        try reply.encode(to: encoder)
        guard !warnings.isEmpty else { return }
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(warnings, forKey: .warnings)
    }
}
