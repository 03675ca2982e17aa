import Crypto
import Foundation
import Synchronization

/// The store's row key once the daemon hands it one (``Store/protectRows(with:)``), and what it found:
/// seals and authenticates rows on the way in, opens and checks them on the way out.
///
/// Until a key is set rows pass through as they are (tests and tools that open a database without the
/// vault): nothing is sealed, and nothing is checked.
final class RowProtection: Sendable {
    private let cipher = Mutex<RowCipher?>(nil)
    /// Violations already audited, so a row polled again and again is recorded once per daemon run.
    private let reported = Mutex<Set<IntegrityViolation>>([])
    private let observer = Mutex<(@Sendable (IntegrityViolation) -> Void)?>(nil)

    func set(_ cipher: RowCipher) { self.cipher.withLock { $0 = cipher } }
    var isOn: Bool { cipher.withLock { $0 != nil } }

    /// Who hears of each new violation (the daemon's metrics and long-polls).
    func observe(_ observer: @escaping @Sendable (IntegrityViolation) -> Void) { self.observer.withLock { $0 = observer } }

    /// `record` as it is stored, its sealed columns sealed, with its MAC (`nil` without a key).
    func stored<Row: ProtectedRow>(_ record: Row) throws -> (row: Row, mac: String?) {
        guard let cipher = cipher.withLock({ $0 }) else { return (record, nil) }
        let sealed = try record.sealedColumns { column, value in try cipher.seal(value, at: record.address(column)) }
        return (sealed, cipher.mac(record.integrityEncoding))
    }

    /// The record a stored row holds, opened and checked.
    /// - Throws: ``IntegrityViolation`` naming the table, row and what does not verify.
    func opened<Row: ProtectedRow>(_ stored: Row, mac: String?) throws(IntegrityViolation) -> Row {
        guard let cipher = cipher.withLock({ $0 }) else { return stored }
        let record: Row
        do {
            record = try stored.sealedColumns { column, value in
                let address = stored.address(column)
                guard value.hasPrefix(RowCipher.prefix) else { throw IntegrityViolation.unsealed(address, row: stored.rowName) }
                guard let plain = cipher.open(value, at: address) else { throw IntegrityViolation.unopenable(address, row: stored.rowName) }
                return plain
            }
        } catch let violation as IntegrityViolation {
            throw violation
        } catch {
            throw IntegrityViolation(table: Row.tableName, row: stored.rowName, reason: "\(error)")
        }
        guard let mac else { throw .missingMAC(table: Row.tableName, row: stored.rowName) }
        guard cipher.verifies(mac, for: record.integrityEncoding) else { throw .wrongMAC(table: Row.tableName, row: stored.rowName) }
        return record
    }

    /// Whether `violation` is news (to be audited and counted); tells the observer when it is.
    func isNew(_ violation: IntegrityViolation) -> Bool {
        guard reported.withLock({ $0.insert(violation).inserted }) else { return false }
        observer.withLock { $0 }?(violation)
        return true
    }
}
