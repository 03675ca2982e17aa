import Foundation
import Jail
import Testing

/// Runs a command line through /bin/sh and returns (exit status, stdout, stderr).
func shell(_ script: String, environment: [String: String] = ["PATH": "/usr/bin:/bin"]) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", script]
    process.environment = environment
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// The `oauth3-jail` built next to this test bundle.
let jail = URL(fileURLWithPath: try! FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    .deletingLastPathComponent().appendingPathComponent("oauth3-jail").path

@Suite("oauth3-jail, the real binary")
struct JailBinaryTests {
    @Test("The program runs with no_new_privs, in its own session, with only the named variables")
    func containsTheProgram() throws {
        let run = try shell(
            "\(jail) --keep-env KEEP_ME -- /bin/sh -c 'grep NoNewPrivs /proc/self/status; echo sid=$(cut -d\" \" -f6 /proc/$$/stat) pid=$$; env | sort'",
            environment: ["PATH": "/usr/bin:/bin", "KEEP_ME": "yes", "LD_PRELOAD": "/nonexistent.so", "DROP_ME": "no"])
        #expect(run.status == 0, "\(run.err)")
        let lines = run.out.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("NoNewPrivs:") && $0.hasSuffix("1") })
        let ids = lines.first { $0.hasPrefix("sid=") }?.split(separator: " ").map { $0.split(separator: "=")[1] }
        #expect(ids?.count == 2 && ids?[0] == ids?[1], "the program must lead its own session: \(lines)")
        let environment = lines.filter { $0.contains("=") && !$0.hasPrefix("sid=") }
        // sh adds PWD, SHLVL and _ itself; nothing else from outside may be there.
        #expect(environment.filter { !$0.hasPrefix("PWD=") && !$0.hasPrefix("SHLVL=") && !$0.hasPrefix("_=") } == ["KEEP_ME=yes"])
    }

    @Test("Descriptors the jail inherits are closed before the program starts")
    func closesInheritedDescriptors() throws {
        // Control: without the jail, fd 7 opened by the shell is inherited by ls.
        let bare = try shell("exec 7</etc/hostname; exec /bin/ls /proc/self/fd")
        #expect(bare.out.split(separator: "\n").contains("7"))
        let jailed = try shell("exec 7</etc/hostname; \(jail) -- /bin/ls /proc/self/fd")
        #expect(jailed.status == 0, "\(jailed.err)")
        let descriptors = Set(jailed.out.split(separator: "\n").map(String.init))
        #expect(!descriptors.contains("7"))
        #expect(descriptors.isSubset(of: ["0", "1", "2", "3"]), "\(descriptors)")  // 3: ls's own directory handle
    }

    @Test("A failure is written to the report file and exits with the reserved code")
    func reportsFailure() throws {
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("jail-report-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: report) }
        let run = try shell("\(jail) --report \(report) -- /nonexistent/deno run -")
        #expect(run.status == JailFailure.exitCode)
        let line = try String(contentsOfFile: report, encoding: .utf8).trimmingCharacters(in: .newlines)
        let failure = try #require(JailFailure(reportLine: line))
        #expect(failure.stage == .exec)
        #expect(failure.errno == ENOENT)
        #expect(run.err.contains("jail setup failed at exec"))
    }

    @Test("A bad working directory fails at chdir, before anything runs")
    func chdirFailure() throws {
        let run = try shell("\(jail) --chdir /nonexistent -- /bin/echo ran")
        #expect(run.status == JailFailure.exitCode)
        #expect(!run.out.contains("ran"))
        #expect(run.err.contains("chdir"))
    }

    @Test("Usage errors name the argument", arguments: [
        ("--bogus -- /bin/true", "unknown argument '--bogus'"),
        ("--keep-env", "--keep-env needs a value"),
        ("--keep-env A=B -- /bin/true", "takes a variable name"),
        ("-- bin/true", "absolute path"),
        ("--chdir /tmp", "missing '-- PROGRAM"),
    ])
    func usageErrors(arguments: String, message: String) throws {
        let run = try shell("\(jail) \(arguments)")
        #expect(run.status == JailFailure.exitCode)
        #expect(run.err.contains(message), "\(run.err)")
    }
}

@Suite("Jail configuration encoding")
struct JailConfigurationTests {
    @Test("Encoding and decoding the command line round-trips, arguments after -- untouched")
    func roundTrip() throws {
        let configuration = JailConfiguration(
            program: "/opt/deno", arguments: ["run", "--keep-env", "--", "-"], keepEnvironment: ["HOME", "GH_TOKEN"],
            workingDirectory: "/tmp/job x/work", reportPath: "/tmp/job x/report")
        #expect(try JailConfiguration(arguments: configuration.encoded()) == configuration)
    }

    @Test("Report lines round-trip, and anything else is not a report")
    func reportLines() {
        let failure = JailFailure(.noNewPrivileges, errno: EPERM, "prctl(PR_SET_NO_NEW_PRIVS)")
        #expect(JailFailure(reportLine: failure.reportLine) == failure)
        #expect(JailFailure(reportLine: "hello world") == nil)
        #expect(JailFailure(reportLine: "") == nil)
    }
}
