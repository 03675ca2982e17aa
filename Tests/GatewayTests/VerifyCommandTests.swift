import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import TestSupport
import Testing

/// `oauth3-enclave verify` on the real vectors, offline and against a PCCS served here.
@Suite("oauth3-enclave verify", .serialized, .timeLimit(.minutes(2)))
struct VerifyCommandTests {
    static let vectors = Fixture.repository.appendingPathComponent("Tests/Vectors").path

    func verify(_ arguments: [String]) async throws -> (status: Int32, out: String) {
        let run = try await Fixture.execute(Fixture.enclave, ["verify"] + arguments)
        return (run.status, run.out + run.err)
    }

    @Test("Bare quotes with collateral files: exit 0 only for an acceptable status; --accept widens it; --json for machines")
    func offline() async throws {
        let v = Self.vectors
        var run = try await verify(["--quote", "\(v)/dcap/tdx_quote.bin", "--collateral", "\(v)/dcap/tdx_quote_collateral.json", "--now", "1750330147"])
        #expect(run.status == 0 && run.out.contains("TCB status UpToDate") && run.out.contains("VERIFIED"))
        run = try await verify(["--quote", "\(v)/dcap/sgx_quote.bin", "--collateral", "\(v)/dcap/sgx_quote_collateral.json", "--now", "1750331571"])
        #expect(run.status == 1 && run.out.contains("ConfigurationAndSWHardeningNeeded") && run.out.contains("INTEL-SA-00289"))
        run = try await verify(["--quote", "\(v)/dcap/sgx_quote.bin", "--collateral", "\(v)/dcap/sgx_quote_collateral.json", "--now", "1750331571", "--accept", "ConfigurationAndSWHardeningNeeded", "--json"])
        #expect(run.status == 0 && run.out.contains("\"tcb_status\" : \"ConfigurationAndSWHardeningNeeded\""))
        run = try await verify(["--quote", "\(v)/dcap/tdx_quote.bin", "--collateral", "\(v)/dcap/tdx_quote_collateral.json", "--now", "1752019234"])
        #expect(run.status == 0)
        run = try await verify(["--quote", "\(v)/dcap/tdx_quote.bin", "--collateral", "\(v)/dcap/tdx_quote_collateral.json", "--now", String(1_752_919_234 + 100_000)])
        #expect(run.status == 1 && run.out.contains("✘ tcb_info_window") && run.out.contains("TCB info expired"))
        run = try await verify(["--quote", "\(v)/dcap/tdx_quote_parse_only.hex"])
        #expect(run.status == 1 && run.out.contains("no collateral"))
    }

    @Test("Event-log expectations: app id and compose hash, right and wrong")
    func expectations() async throws {
        let v = Self.vectors
        let base = ["--quote", "\(v)/dstack/simulator_v055_quote.hex", "--event-log", "\(v)/dstack/simulator_v055_eventlog.json"]
        var run = try await verify(base + ["--expect-app-id", "ea549f02e1a25fabd1cb788380e033ec5461b2ff", "--expect-compose-hash", "ea549f02e1a25fabd1cb788380e033ec5461b2ffe4328d753642cf035452e48b"])
        #expect(run.out.contains("✔ app_id") && run.out.contains("✔ compose_hash") && run.out.contains("✔ event_log_replay"))
        run = try await verify(base + ["--expect-app-id", "00"])
        #expect(run.status == 1 && run.out.contains("✘ app_id"))
        // A log edited to state the expected identity but not replaying to the quote proves nothing.
        let forged = Fixture.workRoot() + "/forged-eventlog-\(UUID().uuidString).json"
        let original = try String(contentsOfFile: "\(v)/dstack/simulator_v055_eventlog.json", encoding: .utf8)
        let edited = original.replacingOccurrences(of: "\"event\":\"system-ready\"", with: "\"event\":\"system-readz\"")
        #expect(edited != original)
        try edited.write(toFile: forged, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: forged) }
        run = try await verify(["--quote", "\(v)/dstack/simulator_v055_quote.hex", "--event-log", forged, "--expect-app-id", "ea549f02e1a25fabd1cb788380e033ec5461b2ff"])
        #expect(run.status == 1 && run.out.contains("✘ event_log_replay") && run.out.contains("✘ app_id") && run.out.contains("proves nothing"), "\(run.out)")
    }

    @Test("Collateral fetched from a PCCS gives the same verdict as the file")
    func pccs() async throws {
        let collateral = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.vectors + "/dcap/tdx_quote_collateral.json"))) as! [String: String]
        @Sendable func chainHeader(_ key: String) -> String { collateral[key]!.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }
        let router = Router()
        router.get("/sgx/certification/v4/pckcrl") { request, _ in
            // The vector's PCK certificate comes from Intel's Platform CA: only that CRL is the right one.
            guard request.uri.queryParameters.get("ca") == "platform" else { return Response(status: .notFound) }
            return Response(status: .ok, headers: [HTTPField.Name("SGX-PCK-CRL-Issuer-Chain")!: chainHeader("pck_crl_issuer_chain")], body: .init(byteBuffer: ByteBuffer(string: collateral["pck_crl"]!)))
        }
        router.get("/sgx/certification/v4/rootcacrl") { _, _ in collateral["root_ca_crl"]! }
        router.get("/tdx/certification/v4/tcb") { request, _ in
            guard request.uri.queryParameters.get("fmspc") == "B0C06F000000" else { return Response(status: .notFound) }
            return Response(status: .ok, headers: [HTTPField.Name("TCB-Info-Issuer-Chain")!: chainHeader("tcb_info_issuer_chain")],
                            body: .init(byteBuffer: ByteBuffer(string: "{\"tcbInfo\":\(collateral["tcb_info"]!),\"signature\":\"\(collateral["tcb_info_signature"]!)\"}")))
        }
        router.get("/tdx/certification/v4/qe/identity") { _, _ in
            Response(status: .ok, headers: [HTTPField.Name("SGX-Enclave-Identity-Issuer-Chain")!: chainHeader("qe_identity_issuer_chain")],
                     body: .init(byteBuffer: ByteBuffer(string: "{\"enclaveIdentity\":\(collateral["qe_identity"]!),\"signature\":\"\(collateral["qe_identity_signature"]!)\"}")))
        }
        let (ports, signal) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: { signal.yield($0.localAddress?.port ?? 0) }, logger: Logger(label: "pccs"))
        let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "pccs")))
        let task = Task { try await group.run() }
        defer { Task { await group.triggerGracefulShutdown(); _ = try? await task.value } }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let run = try await verify(["--quote", Self.vectors + "/dcap/tdx_quote.bin", "--pccs", "http://127.0.0.1:\(port)", "--now", "1750330147"])
        #expect(run.status == 0 && run.out.contains("TCB status UpToDate"), "\(run.out)")
    }
}
