import ArgumentParser
import Foundation

/// Secret values given to `run`: `--secret NAME=VALUE`, `--secret NAME` (value from this process's
/// environment, which keeps it off the command line), and `--secrets-file FILE`.
enum SecretsInput {
    /// Reads every source; later sources win.
    static func collect(flags: [String], file: String?) throws -> [String: String] {
        var values: [String: String] = [:]
        if let file { values.merge(try read(file: file)) { _, new in new } }
        for (index, flag) in flags.enumerated() {
            if let equals = flag.firstIndex(of: "=") {
                values[String(flag[..<equals])] = String(flag[flag.index(after: equals)...])
            } else if let value = ProcessInfo.processInfo.environment[flag] {
                values[flag] = value
            } else {
                throw ValidationError("--secret #\(index + 1) '\(flag)': no '=' and no environment variable of that name")
            }
        }
        return values
    }

    /// A JSON object of strings, or `NAME=VALUE` lines (blank lines and `#` comments ignored).
    static func read(file: String) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ValidationError("--secrets-file \(file): cannot read the file")
        }
        let text = String(decoding: data, as: UTF8.self)
        if text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{") {
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ValidationError("--secrets-file \(file): not a JSON object")
            }
            var values: [String: String] = [:]
            for (name, value) in object {
                guard let string = value as? String else {
                    throw ValidationError("--secrets-file \(file): value of \(name) is not a string")
                }
                values[name] = string
            }
            return values
        }
        var values: [String: String] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "="), equals != line.startIndex else {
                throw ValidationError("--secrets-file \(file) line \(number + 1): expected NAME=VALUE")
            }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return values
    }
}
