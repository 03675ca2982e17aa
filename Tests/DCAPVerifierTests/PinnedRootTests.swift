import DCAPVerifier
import Foundation
import SwiftASN1
import TestSupport
import Testing
import X509

/// The root every verdict rests on. Its expected identity is written down here, not taken from the code:
/// the SHA-256 of Intel's SGX Root CA certificate (DER), computed once from `Tests/Vectors/dcap/intel_sgx_root_ca.der`
/// (`sha256sum`) and found identical in the root dcap-qvl 0.7.0 embeds in its library.
@Suite("The pinned Intel SGX Root CA")
struct PinnedRootTests {
    static let intelRootSHA256 = "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"

    /// SHA-256 by Python's hashlib, so neither side of the comparison is our own code.
    static func pythonSHA256(_ bytes: [UInt8]) async throws -> String {
        let run = try await Fixture.execute(
            "/usr/bin/python3", ["-c", "import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest(), end='')"], input: bytes)
        #expect(run.status == 0, "\(run.err)")
        return run.out
    }

    @Test("The embedded root is byte for byte the vector's file, whose hashlib SHA-256 is the written-down pin")
    func embeddedRoot() async throws {
        let file = try Vectors.data("dcap/intel_sgx_root_ca.der")
        #expect(try await Self.pythonSHA256(file) == Self.intelRootSHA256)
        var serializer = DER.Serializer()
        try serializer.serialize(try IntelRoot.certificate())
        #expect(serializer.serializedBytes == file, "the embedded root differs from the vector's DER")
        #expect(IntelRoot.sha256 == Self.intelRootSHA256)
        let root = try IntelRoot.certificate()
        #expect(root.subject == root.issuer && root.subject.description.contains("Intel SGX Root CA"))
    }

    @Test("dcap-qvl trusts the same root: its library embeds exactly these DER bytes")
    func dcapQVLRoot() throws {
        let package = Fixture.repository.appendingPathComponent(".tools/python/dcap_qvl").path
        let library = try #require(
            (try? FileManager.default.contentsOfDirectory(atPath: package))?.first { $0.hasPrefix("_dcap_qvl") && $0.hasSuffix(".so") },
            "dcap-qvl is not installed in .tools/python: run `make setup`")
        let binary = try Data(contentsOf: URL(fileURLWithPath: package + "/" + library))
        let root = Data(try Vectors.data("dcap/intel_sgx_root_ca.der"))
        #expect(binary.range(of: root) != nil, "dcap-qvl's \(library) does not embed the root we pin")
    }
}
