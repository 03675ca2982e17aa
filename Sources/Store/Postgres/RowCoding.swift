import Foundation

/// Moves records between Swift and PostgreSQL as JSON: a row is read as `row_to_json(…)` and decoded with
/// the record's own `Codable` conformance, and written through `json_populate_record(…)`. The tables quote
/// their column names as the records spell their properties, so one record type serves both stores.
/// `bytea` travels as PostgreSQL's hex text (`\x…`).
enum RowCoding {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dataEncodingStrategy = .custom { data, encoder in
            var container = encoder.singleValueContainer()
            try container.encode("\\x" + data.map { String(format: "%02x", $0) }.joined())
        }
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dataDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard text.hasPrefix("\\x"), let data = Data(hex: text.dropFirst(2)) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "bytea is not PostgreSQL hex text")
            }
            return data
        }
        return decoder
    }()

    static func json(_ record: some Encodable) throws -> String {
        String(decoding: try encoder.encode(record), as: UTF8.self)
    }

    static func record<R: Decodable>(_ type: R.Type, from json: String) throws -> R {
        try decoder.decode(type, from: Data(json.utf8))
    }

    /// The record's stored properties, quoted: its columns, in declaration order.
    static func columns(of record: Any) -> String {
        Mirror(reflecting: record).children.compactMap(\.label).map { "\"\($0)\"" }.joined(separator: ", ")
    }
}

extension Data {
    /// Bytes from lowercase or uppercase hex digits; `nil` for anything else.
    init?(hex: Substring) {
        guard hex.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }
}
