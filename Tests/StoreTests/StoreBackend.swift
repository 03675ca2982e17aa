import Foundation
import Store
import TestSupport
import Testing

/// The two stores the behaviour tests run against: SQLite in memory, and PostgreSQL (a fresh database on
/// the test process's real server, ``PostgresServer``). The PostgreSQL case fails, naming why, when the
/// server cannot start: `make setup` installs PostgreSQL, and no test is skipped silently.
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// A new, empty store; `body` runs with it, and a PostgreSQL store is closed afterwards.
    func withStore<R>(_ body: (any EnclaveStore) async throws -> R) async throws -> R {
        switch self {
        case .sqlite:
            return try await body(try Store.inMemory())
        case .postgres:
            let store = try await PostgresStore.connect(try DatabaseURL(try await PostgresServer.shared().makeDatabase()))
            do {
                let result = try await body(store)
                await store.close()
                return result
            } catch {
                await store.close()
                throw error
            }
        }
    }
}
