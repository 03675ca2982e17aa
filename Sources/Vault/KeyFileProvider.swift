import Crypto
import Foundation

/// A 32-byte key in a file of the data directory, created on first use with mode 0600.
///
/// For development and `--dev` only: anyone who can read the data directory can read the key. Refuses a
/// key file that others can read or that has the wrong size, rather than using it.
public struct KeyFileProvider: KeyProvider {
    public let path: String
    public var name: String { "key-file" }

    public init(path: String) {
        self.path = path
    }

    public func vaultKey() async throws(VaultError) -> SymmetricKey {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 {
            guard errno == ENOENT else { throw .keyFile("cannot open \(path): \(String(cString: strerror(errno)))") }
            return try create()
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .keyFile("cannot stat \(path)") }
        guard info.st_mode & 0o077 == 0 else {
            throw .keyFile("\(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        var bytes = [UInt8](repeating: 0, count: 33)
        let count = read(fd, &bytes, bytes.count)
        guard count == 32 else { throw .keyFile("\(path) holds \(max(count, 0)) bytes, not a 32-byte key") }
        return SymmetricKey(data: bytes.prefix(32))
    }

    private func create() throws(VaultError) -> SymmetricKey {
        let key = SymmetricKey(size: .bits256)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw .keyFile("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = key.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == 32, fsync(fd) == 0 else { throw .keyFile("cannot write \(path)") }
        return key
    }
}
