import DCAPVerifier
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

    /// The vectors' collateral, served the way Intel's PCS serves it: the PCK CRL of the CA the request
    /// names (`ca=platform` for the TDX vector, `ca=processor` for the SGX one) as DER when asked with
    /// `encoding=der` and as PEM otherwise, the root CA CRL as DER (or as hex, as Intel's PCCS does), the
    /// TCB info per TEE kind and FMSPC, the QE identity per kind, each with its issuer chain header.
    static func pccs(rootCRLAsHex: Bool) -> Router<BasicRequestContext> {
        func collateral(_ name: String) -> [String: String] {
            try! JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: vectors + "/dcap/\(name)_collateral.json"))) as! [String: String]
        }
        let documents = ["tdx": collateral("tdx_quote"), "sgx": collateral("sgx_quote")]
        let pckCRLs = ["platform": documents["tdx"]!, "processor": documents["sgx"]!]
        @Sendable func header(_ name: String, _ value: String) -> HTTPFields {
            [HTTPField.Name(name)!: value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!]
        }
        @Sendable func fmspc(_ document: [String: String]) -> String? {
            (try? JSONSerialization.jsonObject(with: Data(document["tcb_info"]!.utf8)) as? [String: Any])?["fmspc"] as? String
        }
        let router = Router()
        router.get("/sgx/certification/v4/pckcrl") { request, _ in
            guard let ca = request.uri.queryParameters.get("ca"), let document = pckCRLs[ca] else { return Response(status: .notFound) }
            let der = bytes(fromHex: document["pck_crl"]!)!
            let body = request.uri.queryParameters.get("encoding") == "der"
                ? ByteBuffer(bytes: der)
                : ByteBuffer(string: "-----BEGIN X509 CRL-----\n" + Data(der).base64EncodedString(options: .lineLength64Characters) + "\n-----END X509 CRL-----\n")
            var headers = header("SGX-PCK-CRL-Issuer-Chain", document["pck_crl_issuer_chain"]!)
            headers[.contentType] = request.uri.queryParameters.get("encoding") == "der" ? "application/pkix-crl" : "application/x-pem-file"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
        }
        router.get("/sgx/certification/v4/rootcacrl") { _, _ in
            let hex = documents["tdx"]!["root_ca_crl"]!
            return Response(status: .ok, body: .init(byteBuffer: rootCRLAsHex ? ByteBuffer(string: hex) : ByteBuffer(bytes: bytes(fromHex: hex)!)))
        }
        for kind in ["tdx", "sgx"] {
            let document = documents[kind]!
            router.get("/\(kind)/certification/v4/tcb") { request, _ in
                guard request.uri.queryParameters.get("fmspc").map { String($0).uppercased() } == fmspc(document)?.uppercased() else { return Response(status: .notFound) }
                return Response(status: .ok, headers: header("TCB-Info-Issuer-Chain", document["tcb_info_issuer_chain"]!),
                                body: .init(byteBuffer: ByteBuffer(string: "{\"tcbInfo\":\(document["tcb_info"]!),\"signature\":\"\(document["tcb_info_signature"]!)\"}")))
            }
            router.get("/\(kind)/certification/v4/qe/identity") { _, _ in
                Response(status: .ok, headers: header("SGX-Enclave-Identity-Issuer-Chain", document["qe_identity_issuer_chain"]!),
                         body: .init(byteBuffer: ByteBuffer(string: "{\"enclaveIdentity\":\(document["qe_identity"]!),\"signature\":\"\(document["qe_identity_signature"]!)\"}")))
            }
        }
        return router
    }

    @Test(
        "Collateral fetched from a PCS-like server gives the file's verdict, on the platform CA's path (TDX) and the processor CA's (SGX)",
        arguments: [false, true])
    func pccs(rootCRLAsHex: Bool) async throws {
        let (ports, signal) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: Self.pccs(rootCRLAsHex: rootCRLAsHex), configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: { signal.yield($0.localAddress?.port ?? 0) }, logger: Logger(label: "pccs"))
        let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "pccs")))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let v = Self.vectors
        for (quote, now, accept) in [("tdx_quote", "1750330147", [String]()), ("sgx_quote", "1750331571", ["--accept", "ConfigurationAndSWHardeningNeeded"])] {
            let fetched = try await verify(["--quote", "\(v)/dcap/\(quote).bin", "--pccs", "http://127.0.0.1:\(port)", "--now", now, "--json"] + accept)
            let file = try await verify(["--quote", "\(v)/dcap/\(quote).bin", "--collateral", "\(v)/dcap/\(quote)_collateral.json", "--now", now, "--json"] + accept)
            #expect(fetched.status == 0 && file.status == 0, "\(quote): \(fetched.out)")
            for field in ["\"tcb_status\" : ", "\"advisory_ids\" : "] {
                let line = { (text: String) in text.split(separator: "\n").first { $0.contains(field) }.map(String.init) }
                #expect(line(fetched.out) != nil && line(fetched.out) == line(file.out), "\(quote) \(field): \(fetched.out)")
            }
        }
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
