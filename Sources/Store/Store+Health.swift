import GRDB

extension Store {
    /// Reads one row through the connection pool: the database file is open and answers.
    /// - Throws: GRDB's error when it does not (file gone, disk error, pool closed).
    public func ping() async throws {
        _ = try await writer.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }
}
