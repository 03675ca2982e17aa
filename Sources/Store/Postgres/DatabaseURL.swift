import Foundation

/// A `postgres://user:password@host:port/database?sslmode=…` URL, parsed once at start.
///
/// The password is kept apart and never printed: ``description`` (what logs and errors show) replaces it
/// with `***`, and a malformed URL is refused naming what is wrong, never echoing the URL itself.
public struct DatabaseURL: Sendable, CustomStringConvertible {
    /// How the connection is protected. `require` (the default) is for a database outside the TEE;
    /// `disable` only for loopback (tests, a database beside the daemon).
    public enum TLSMode: String, Sendable { case disable, require }

    public let host: String
    public let port: Int
    public let username: String
    public let password: String?
    public let database: String
    public let tls: TLSMode

    /// Parses `text`.
    /// - Throws: ``DatabaseURLError`` naming the part that is missing or malformed.
    public init(_ text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme else {
            throw DatabaseURLError("the database URL is not a URL (expected postgres://user:password@host:port/database)")
        }
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw DatabaseURLError("the database URL's scheme is \(scheme), not postgres")
        }
        guard let host = components.host, !host.isEmpty else { throw DatabaseURLError("the database URL names no host") }
        guard let username = components.user, !username.isEmpty else { throw DatabaseURLError("the database URL names no user") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else { throw DatabaseURLError("the database URL names no database (its path)") }
        var tls = TLSMode.require
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw DatabaseURLError("the database URL's sslmode must be require or disable, not '\(item.value ?? "")'")
                }
                tls = mode
            default:
                throw DatabaseURLError("the database URL's parameter '\(item.name)' is not understood (only sslmode is)")
            }
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = username
        self.password = components.password  // URLComponents decodes the percent-escapes
        self.database = database
        self.tls = tls
    }

    /// The URL with its password replaced by `***`: safe for logs.
    public var description: String {
        "postgres://\(username)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)?sslmode=\(tls.rawValue)"
    }
}

/// A database URL that cannot be used; the message never contains the URL's password.
public struct DatabaseURLError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
