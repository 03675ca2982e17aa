import Crypto
import Foundation
import SwiftASN1
import X509

/// Checks a quote's signatures down to a trusted root: the attestation key's signature over the header
/// and body, the QE report's binding of that key, the QE report's signature by the PCK key, and the PCK
/// certificate chain to the root. Collateral (TCB info, QE identity, CRLs) comes on top of this.
///
/// Failures are results, not throws: each check is reported with its reason.
public struct QuoteVerifier: Sendable {
    /// The root a verification accepts.
    public enum Root: Sendable {
        /// Intel's SGX Root CA, embedded and pinned by SHA-256.
        case intel
        /// The development guest agent's root. Accepting it proves nothing about hardware.
        case development
        /// A root given by the caller (tests).
        case certificate(Certificate)
    }

    /// One check and its verdict.
    public struct Check: Sendable, Hashable, Codable {
        public let name: String
        public let passed: Bool
        public let detail: String
        public init(name: String, passed: Bool, detail: String) {
            self.name = name
            self.passed = passed
            self.detail = detail
        }
    }

    public let roots: [Root]

    public init(roots: [Root]) { self.roots = roots }

    /// Runs every signature check on `quote` at `time`.
    public func verifySignatures(of quote: Quote, at time: Date) async -> [Check] {
        var checks: [Check] = []
        let signature = quote.signature
        // 1. The attestation key signs the header and body.
        if let key = try? P256.Signing.PublicKey(rawRepresentation: signature.attestationKey),
            let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature.quoteSignature),
            key.isValidSignature(ecdsa, for: Data(quote.signedBytes)) {
            checks.append(.init(name: "quote_signature", passed: true, detail: "the attestation key signed the quote"))
        } else {
            checks.append(.init(name: "quote_signature", passed: false, detail: "the quote's signature does not verify with its attestation key"))
        }
        // 2. The QE report binds the attestation key: report_data[0:32] = SHA-256(key ‖ auth data).
        let binding = Array(SHA256.hash(data: Data(signature.attestationKey + signature.qeAuthData)))
        checks.append(.init(
            name: "qe_report_binding", passed: Array(signature.qeReport.reportData.prefix(32)) == binding,
            detail: "QE report data is SHA-256(attestation key ‖ QE auth data)"))
        // 3 and 4. The PCK leaf signs the QE report; its chain leads to a trusted root.
        let pem = signature.pckChainPEM
        let certificates = ParsedCollateralCache.certificates(pem: pem) ?? []
        guard let leaf = certificates.first else {
            checks.append(.init(name: "pck_chain", passed: false, detail: "no PEM certificate chain in the quote"))
            return checks
        }
        if case .p256(let pck)? = leaf.publicKey.p256.map(PCKKey.p256),
            let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature.qeReportSignature),
            pck.isValidSignature(ecdsa, for: Data(signature.qeReport.raw)) {
            checks.append(.init(name: "qe_report_signature", passed: true, detail: "the PCK key signed the QE report"))
        } else {
            checks.append(.init(name: "qe_report_signature", passed: false, detail: "the QE report's signature does not verify with the PCK certificate's key"))
        }
        checks.append(await chainCheck(leaf: leaf, intermediates: Array(certificates.dropFirst()), at: time))
        return checks
    }

    private enum PCKKey { case p256(P256.Signing.PublicKey) }

    private func chainCheck(leaf: Certificate, intermediates: [Certificate], at time: Date) async -> Check {
        var trusted: [Certificate] = []
        for root in roots {
            switch root {
            case .intel: if let intel = try? IntelRoot.pinned.get() { trusted.append(intel) }
            case .development:
                // The development root is recognised by its key, derived from a public constant.
                trusted += intermediates.filter { SHA256.hash(data: $0.publicKey.subjectPublicKeyInfoBytes).hexString == DevelopmentRoot.keySHA256 }
            case .certificate(let certificate): trusted.append(certificate)
            }
        }
        guard !trusted.isEmpty else { return .init(name: "pck_chain", passed: false, detail: "no trusted root: the chain does not end at Intel's SGX Root CA") }
        var verifier = Verifier(rootCertificates: CertificateStore(trusted)) { RFC5280Policy(validationTime: time) }
        switch await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates)) {
        case .validCertificate(let chain):
            let root = chain.last.map { "\($0.subject)" } ?? "?"
            return .init(name: "pck_chain", passed: true, detail: "the PCK certificate chains to \(root)")
        case .couldNotValidate(let failures):
            let reasons = failures.map { "\($0.policyFailureReason)" }.joined(separator: "; ")
            let end = (intermediates.last ?? leaf).subject
            return .init(name: "pck_chain", passed: false, detail: "the PCK certificate does not chain to a trusted root (the quote's chain ends at \(end))" + (reasons.isEmpty ? "" : ": \(reasons)"))
        }
    }
}

/// The development guest agent's root, recognised by the SHA-256 of its SubjectPublicKeyInfo. Its key is
/// derived from the public constant "oauth3-enclave development root CA v1", so accepting it proves nothing.
public enum DevelopmentRoot {
    public static let keySHA256: String = {
        let key = try! P256.Signing.PrivateKey(rawRepresentation: SHA256.hash(data: Data("oauth3-enclave development root CA v1".utf8)))
        return SHA256.hash(data: key.publicKey.derRepresentation).hexString
    }()
}

/// Intel's SGX Root CA, embedded, and pinned by the SHA-256 of its DER encoding.
public enum IntelRoot {
    public static let sha256 = "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"
    static let pem = """
        -----BEGIN CERTIFICATE-----
        MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIw
        aDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv
        cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJ
        BgNVBAYTAlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgG
        A1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0
        aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT
        AlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi7
        1OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOB
        uzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJ
        MEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50
        ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SV
        Ur9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYI
        KoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwg
        AiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=
        -----END CERTIFICATE-----
        """

    /// The certificate, parsed and checked against its pin once per process (it is compiled in).
    static let pinned = Result { try certificate() }

    /// The certificate, after checking its pin.
    public static func certificate() throws -> Certificate {
        let certificate = try Certificate(pemEncoded: pem)
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        guard SHA256.hash(data: serializer.serializedBytes).hexString == sha256 else {
            throw QuoteParseError("the embedded Intel SGX Root CA does not match its pinned SHA-256")
        }
        return certificate
    }
}

extension Certificate.PublicKey {
    var p256: P256.Signing.PublicKey? { P256.Signing.PublicKey(self) }
    var subjectPublicKeyInfoBytes: [UInt8] {
        var serializer = DER.Serializer()
        try? serializer.serialize(self)
        return serializer.serializedBytes
    }
}
