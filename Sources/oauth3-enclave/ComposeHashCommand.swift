import ArgumentParser
import DCAPVerifier
import Foundation

/// `oauth3-enclave compose-hash APP-COMPOSE.json`: the compose hash dstack measures for that file, which
/// is the `compose_hash` a result's event log states (and `verify --expect-compose-hash` takes).
struct ComposeHashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compose-hash",
        abstract: "Print the compose hash dstack measures for an app-compose.json: SHA-256 of its exact bytes.",
        discussion: "The file is hashed as it is, byte for byte: reformatting it (even a trailing newline) changes the hash.")
    @Argument(help: "The app-compose.json, or - for standard input.") var file: String

    func run() throws {
        let bytes: Data
        if file == "-" {
            bytes = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            bytes = data
        }
        print(ComposeHash.of(bytes).hexString)
    }
}
