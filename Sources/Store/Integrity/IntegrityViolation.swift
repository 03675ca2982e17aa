/// A row the daemon did not write as it stands: changed, inserted or moved outside the daemon. The row is
/// refused (never run or served); the store records it in the audit log (`integrity_violation`).
public struct IntegrityViolation: Error, Sendable, Hashable, CustomStringConvertible {
    /// The table, as the database names it.
    public let table: String
    /// The row's primary key (composite keys joined with `/`).
    public let row: String
    /// What does not verify.
    public let reason: String

    public init(table: String, row: String, reason: String) {
        self.table = table
        self.row = row
        self.reason = reason
    }

    public var description: String {
        "integrity violation: table \(table), row \(row): \(reason); the row was changed outside the enclave and is refused"
    }

    /// The sealed column does not open at this row.
    static func unopenable(_ address: ColumnAddress, row: String) -> Self {
        .init(table: address.table, row: row, reason: "column \(address.column) does not open under this row's key (edited, or moved from another row, tenant or column)")
    }

    static func unsealed(_ address: ColumnAddress, row: String) -> Self {
        .init(table: address.table, row: row, reason: "column \(address.column) is not sealed (written without the enclave's key)")
    }

    static func missingMAC(table: String, row: String) -> Self {
        .init(table: table, row: row, reason: "the row has no MAC (inserted or rewritten without the enclave's key)")
    }

    static func wrongMAC(table: String, row: String) -> Self {
        .init(table: table, row: row, reason: "the row's MAC does not verify (a field was changed)")
    }
}
