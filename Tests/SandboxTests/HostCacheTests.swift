import Foundation
@testable import Sandbox
import TestSupport
import Testing

@Suite("The machine's inspection, remembered per boot for one-shot runs", .serialized, .timeLimit(.minutes(2)))
struct HostCacheTests {
    @Test("A second inspection reuses the first one's answers; a file that does not match its key is inspected afresh and replaced")
    func remembered() async throws {
        let configuration = try Fixture.configuration()
        let cache = configuration.workRoot + "/cache"
        let first = try await SandboxHost.inspect(configuration, cachingIn: cache)
        let files = try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.hasPrefix("host-facts-") }
        #expect(files.count == 1)
        let file = cache + "/" + files[0]
        let stored = try JSONDecoder().decode(SandboxHost.Facts.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
        #expect(stored.denoVersion == first.denoVersion && stored.denoLibraries == first.denoLibraries && stored.userNamespace == first.userNamespace)
        #expect(stored.cgroupParents == first.cgroups?.parentDirectories)

        // Reused: a stored answer that differs from the machine's (a made-up Deno version) is what comes back.
        var altered = stored
        altered.denoVersion = "0.0.0-remembered"
        try JSONEncoder().encode(altered).write(to: URL(fileURLWithPath: file))
        let second = try await SandboxHost.inspect(configuration, cachingIn: cache)
        #expect(second.denoVersion == "0.0.0-remembered")
        #expect(second.cgroups?.version == first.cgroups?.version)

        // A file whose key is another's (another binary, another boot) is a miss: inspected afresh.
        altered.key = String(repeating: "0", count: 64)
        try JSONEncoder().encode(altered).write(to: URL(fileURLWithPath: file))
        let third = try await SandboxHost.inspect(configuration, cachingIn: cache)
        #expect(third.denoVersion == first.denoVersion)
    }

    @Test("The key changes with the jail binary, the Deno binary and the user-namespace mode")
    func keyedByWhatMatters() throws {
        let configuration = try Fixture.configuration()
        let hierarchy = CgroupHierarchy.current()
        let base = SandboxHost.cacheKey(configuration, hierarchy: hierarchy)
        var otherJail = configuration
        otherJail.jailPath = Fixture.probe
        var otherDeno = configuration
        otherDeno.denoPath = Fixture.enclave
        var otherMode = configuration
        otherMode.userNamespace = .automatic
        for changed in [otherJail, otherDeno, otherMode] { #expect(SandboxHost.cacheKey(changed, hierarchy: hierarchy) != base) }
        #expect(SandboxHost.cacheKey(configuration, hierarchy: hierarchy) == base)
    }
}
