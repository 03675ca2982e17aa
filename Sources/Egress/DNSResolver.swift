import Foundation
import NIOCore
import NIOPosix

/// Turns a host name into addresses for the proxy. A protocol so the benchmark and tests can point the
/// proxy at their own name server; the real one is ``DNSResolver``.
public protocol NameResolver: Sendable {
    /// Every `A` and `AAAA` address of `host`, or why there are none.
    func resolve(_ host: String) async -> Result<[IPAddress], DNSFailure>
}

/// A stub resolver that asks its name servers over UDP, itself: the job never resolves anything (its
/// namespace has no route to a name server), and the proxy connects to exactly the addresses it got
/// here and vetted. Nothing is cached, so each connection is decided on a fresh answer.
public struct DNSResolver: NameResolver, CustomStringConvertible {
    /// The servers asked, in order.
    public let nameservers: [SocketAddress]
    /// How long one server gets to answer.
    public let timeout: Duration

    /// - Parameter nameservers: `address` or `address:port` (`[v6]:port` for IPv6 with a port).
    /// - Throws: ``DNSFailure/transport(_:)`` naming an entry that is not an address.
    public init(nameservers: [String], timeout: Duration = .seconds(3)) throws(DNSFailure) {
        var parsed: [SocketAddress] = []
        for entry in nameservers {
            guard let address = Self.socketAddress(entry) else { throw .transport("name server '\(entry)' is not address[:port]") }
            parsed.append(address)
        }
        self.nameservers = parsed
        self.timeout = timeout
    }

    /// The `nameserver` lines of a resolv.conf file.
    public static func systemNameservers(resolvConf path: String = "/etc/resolv.conf") -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return fields.count >= 2 && fields[0] == "nameserver" ? String(fields[1]) : nil
        }
    }

    public var description: String {
        nameservers.isEmpty ? "no name server (every name fails)" : "DNS at " + nameservers.map { "\($0.ipAddress ?? "?"):\($0.port ?? 53)" }.joined(separator: ", ")
    }

    public func resolve(_ host: String) async -> Result<[IPAddress], DNSFailure> {
        guard !nameservers.isEmpty else { return .failure(.noNameservers) }
        async let v4 = lookup(host, type: .a)
        async let v6 = lookup(host, type: .aaaa)
        let (a, aaaa) = await (v4, v6)
        switch (a, aaaa) {
        case (.success(let four), .success(let six)): return .success(four + six)
        case (.success(let four), .failure): return four.isEmpty ? a : .success(four)
        case (.failure, .success(let six)): return six.isEmpty ? a : .success(six)
        case (.failure, .failure): return a
        }
    }

    /// One record type, from the first server that gives a usable answer.
    private func lookup(_ host: String, type: DNSMessage.RecordType) async -> Result<[IPAddress], DNSFailure> {
        var last = DNSFailure.noNameservers
        for server in nameservers {
            let id = UInt16.random(in: 0...UInt16.max)
            guard let query = DNSMessage.query(id: id, name: host, type: type) else { return .failure(.malformed("'\(host)' is not a DNS name")) }
            do {
                let answer = try await exchange(query, with: server)
                let result = DNSMessage.addresses(in: answer, id: id, name: host, type: type)
                if case .failure(let failure) = result, failure != .noSuchName { last = failure; continue }
                return result
            } catch let failure as DNSFailure {
                last = failure
            } catch {
                last = .transport("\(error)")
            }
        }
        return .failure(last)
    }

    /// Sends `query` to `server` from a connected UDP socket (the kernel drops datagrams from anyone
    /// else) and returns the first datagram back, within ``timeout``.
    private func exchange(_ query: [UInt8], with server: SocketAddress) async throws -> [UInt8] {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(to: server) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(wrappingChannelSynchronously: channel)
            }
        }
        return try await withDeadline(timeout, onTimeout: DNSFailure.timeout) {
            try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(AddressedEnvelope(remoteAddress: server, data: ByteBuffer(bytes: query)))
                for try await envelope in inbound {
                    return Array(envelope.data.readableBytesView)
                }
                throw DNSFailure.timeout
            }
        }
    }

    static func socketAddress(_ entry: String) -> SocketAddress? {
        var host = entry
        var port = 53
        if entry.hasPrefix("["), let close = entry.firstIndex(of: "]") {
            host = String(entry[entry.index(after: entry.startIndex)..<close])
            let rest = entry[entry.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let value = Int(rest.dropFirst()), (1...65535).contains(value) else { return nil }
                port = value
            }
        } else if entry.filter({ $0 == ":" }).count == 1, let colon = entry.firstIndex(of: ":") {
            host = String(entry[..<colon])
            guard let value = Int(entry[entry.index(after: colon)...]), (1...65535).contains(value) else { return nil }
            port = value
        }
        guard IPAddress(host) != nil else { return nil }
        return try? SocketAddress(ipAddress: host, port: port)
    }
}

/// Runs `operation`, cancelling it and throwing `error` once `duration` has passed.
func withDeadline<T: Sendable>(
    _ duration: Duration, onTimeout error: any Error & Sendable, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: duration)
            throw error
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
