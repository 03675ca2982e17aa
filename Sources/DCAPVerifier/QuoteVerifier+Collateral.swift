import Crypto
import OAuth3Wire
import Foundation
import SwiftASN1
import X509

extension QuoteVerifier {
    /// Collateral documents after their signatures, issuers, windows and revocations were checked.
    struct CheckedCollateral {
        let tcbInfo: TCBInfo
        let qeIdentity: QEIdentity
        let pck: PCKExtension
    }

    /// Checks the collateral itself and the PCK chain's revocation status. Appends one check per step.
    func checkCollateral(_ collateral: Collateral, for quote: Quote, at time: Date, into checks: inout [Check]) async -> CheckedCollateral? {
        func add(_ name: String, _ passed: Bool, _ detail: String) { checks.append(.init(name: name, passed: passed, detail: detail)) }
        let trustedRoots = await trustedRootCertificates(chainHint: [])
        guard !trustedRoots.isEmpty else {
            add("collateral_roots", false, "no trusted root to check the collateral against")
            return nil
        }
        // TCB info and QE identity: signed by a certificate that chains to the root, over their exact bytes.
        let tcbInfo: TCBInfo? = await signedDocument(
            "tcb_info", json: collateral.tcbInfo, signatureHex: collateral.tcbInfoSignature, chainPEM: collateral.tcbInfoIssuerChain,
            roots: trustedRoots, at: time, into: &checks)
        let qeIdentity: QEIdentity? = await signedDocument(
            "qe_identity", json: collateral.qeIdentity, signatureHex: collateral.qeIdentitySignature, chainPEM: collateral.qeIdentityIssuerChain,
            roots: trustedRoots, at: time, into: &checks)
        guard let tcbInfo, let qeIdentity else { return nil }
        let tcbInfoCurrent = Self.within(tcbInfo.issueDate, tcbInfo.nextUpdate, time)
        add("tcb_info_window", tcbInfoCurrent,
            "TCB info valid \(tcbInfo.issueDate) – \(tcbInfo.nextUpdate)" + (tcbInfoCurrent ? "" : ": TCB info expired or not yet valid at \(ISO8601DateFormatter().string(from: time))"))
        let qeIdentityCurrent = Self.within(qeIdentity.issueDate, qeIdentity.nextUpdate, time)
        add("qe_identity_window", qeIdentityCurrent,
            "QE identity valid \(qeIdentity.issueDate) – \(qeIdentity.nextUpdate)" + (qeIdentityCurrent ? "" : ": QE identity expired or not yet valid"))
        add("tcb_info_kind", tcbInfo.id == (quote.isTDX ? "TDX" : "SGX"), "TCB info for \(tcbInfo.id)")
        add("qe_identity_kind", qeIdentity.id == (quote.isTDX ? "TD_QE" : "QE"), "QE identity for \(qeIdentity.id)")

        // Revocation: the root CRL (signed by the root) and the PCK CRL (signed by the PCK CA).
        let pckChain = ParsedCollateralCache.certificates(pem: quote.signature.pckChainPEM) ?? []
        guard let leaf = pckChain.first,
            let rootCRL = ParsedCollateralCache.revocationList(hex: collateral.rootCACRL), let pckCRL = ParsedCollateralCache.revocationList(hex: collateral.pckCRL)
        else {
            add("crls", false, "the root or PCK CRL is missing or malformed")
            return nil
        }
        let rootSigned = trustedRoots.contains { rootCRL.isSigned(by: $0) }
        add("root_crl", rootSigned && rootCRL.isCurrent(at: time),
            rootSigned ? (rootCRL.isCurrent(at: time) ? "the root CA CRL is signed by the root and current" : "the root CA CRL has expired") : "the root CA CRL is not signed by the trusted root")
        // The PCK CRL must come from the CA that issued this PCK certificate, taken from the quote's chain (already
        // checked to the pinned root; the collateral's CRL issuer chain adds nothing). Any other signer, the root
        // above all, would let the root CA CRL stand in for the PCK CRL and hide a revoked PCK certificate.
        let pckCA = pckChain.dropFirst().dropLast().first { $0.subject == leaf.issuer && pckCRL.isSigned(by: $0) }
        add("pck_crl", pckCA != nil && pckCRL.isCurrent(at: time),
            pckCA == nil ? "the PCK CRL is not signed by the CA that issued the PCK certificate" : (pckCRL.isCurrent(at: time) ? "the PCK CRL is signed by the PCK CA and current" : "the PCK CRL has expired"))
        let revokedIntermediate = pckChain.dropFirst().dropLast().contains { rootCRL.revokes($0) }
        add("pck_ca_not_revoked", !revokedIntermediate, revokedIntermediate ? "the PCK CA certificate is revoked by the root CA CRL" : "the PCK CA is not revoked")
        let revokedLeaf = pckCRL.revokes(leaf)
        add("pck_not_revoked", !revokedLeaf, revokedLeaf ? "the PCK certificate is revoked (serial \(leaf.serialNumber))" : "the PCK certificate is not revoked")

        let pck: PCKExtension
        do {
            pck = try ParsedCollateralCache.pckExtension(of: leaf)
        } catch {
            add("pck_extension", false, "\(error)")
            return nil
        }
        let fmspcMatches = tcbInfo.fmspc.lowercased() == pck.fmspc.hexString && tcbInfo.pceId.lowercased() == pck.pceID.hexString
        add("fmspc", fmspcMatches, "PCK FMSPC \(pck.fmspc.hexString.uppercased()) PCE ID \(pck.pceID.hexString)" + (fmspcMatches ? "" : "; the TCB info is for FMSPC \(tcbInfo.fmspc)"))
        return CheckedCollateral(tcbInfo: tcbInfo, qeIdentity: qeIdentity, pck: pck)
    }

    private func signedDocument<Document: Decodable & Sendable>(
        _ name: String, json: String, signatureHex: String, chainPEM: String, roots: [Certificate], at time: Date, into checks: inout [Check]
    ) async -> Document? {
        let document: Document
        do { document = try ParsedCollateralCache.document(Document.self, json: json) } catch {
            checks.append(.init(name: name, passed: false, detail: "\(name) is not the expected JSON: \(error)"))
            return nil
        }
        let chain = ParsedCollateralCache.certificates(pem: chainPEM) ?? []
        guard let signer = chain.first else {
            checks.append(.init(name: "\(name)_signature", passed: false, detail: "\(name) has no issuer chain"))
            return nil
        }
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) { RFC5280Policy(validationTime: time) }
        let chained: Bool
        switch await verifier.validate(leaf: signer, intermediates: CertificateStore(Array(chain.dropFirst()))) {
        case .validCertificate: chained = true
        case .couldNotValidate: chained = false
        }
        let signed: Bool = {
            guard let key = P256.Signing.PublicKey(signer.publicKey), let raw = bytes(fromHex: signatureHex),
                let signature = try? P256.Signing.ECDSASignature(rawRepresentation: raw)
            else { return false }
            return key.isValidSignature(signature, for: Data(json.utf8))
        }()
        checks.append(.init(
            name: "\(name)_signature", passed: chained && signed,
            detail: !chained ? "\(name)'s signing certificate does not chain to the trusted root (or is outside its validity)"
                : signed ? "\(name) is signed by \(signer.subject)" : "\(name)'s signature does not verify"))
        return chained && signed ? document : nil
    }

    static func within(_ issue: String, _ next: String, _ time: Date) -> Bool {
        guard let start = InternetDateTime.parse(issue), let end = InternetDateTime.parse(next) else { return false }
        return start <= time && time <= end
    }

    /// The certificates the roots stand for (the development root is found among `chainHint`).
    func trustedRootCertificates(chainHint: [Certificate]) async -> [Certificate] {
        var trusted: [Certificate] = []
        for root in roots {
            switch root {
            case .intel: if let intel = try? IntelRoot.pinned.get() { trusted.append(intel) }
            case .development: trusted += chainHint.filter { SHA256.hash(data: $0.publicKey.subjectPublicKeyInfoBytes).hexString == DevelopmentRoot.keySHA256 }
            case .certificate(let certificate): trusted.append(certificate)
            }
        }
        return trusted
    }
}
