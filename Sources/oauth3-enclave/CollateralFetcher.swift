import ArgumentParser
import AsyncHTTPClient
import DCAPVerifier
import Foundation
import NIOCore
import NIOHTTP1
import OAuth3Wire
import SwiftASN1
import X509

/// Fetches a quote's collateral from Intel's PCS or a PCCS (API v4), into the same shape as a collateral
/// file. The documents are kept byte for byte as served, since their signatures cover those bytes.
/// AsyncHTTPClient rather than URLSession: FoundationNetworking would make every start of this binary
/// (`run` included) load libcurl and a dozen libraries behind it, about 5 ms each time, for a flag of `verify`.
struct CollateralFetcher {
    let base: String

    func fetch(for quote: Quote) async throws -> Collateral {
        let certificates = try PEMDocument.parseMultiple(pemString: quote.signature.pckChainPEM).map { try Certificate(pemDocument: $0) }
        guard let leaf = certificates.first else { throw ValidationError("the quote has no PCK certificate") }
        let fmspc = try PCKExtension(certificate: leaf).fmspc.map { String(format: "%02X", $0) }.joined()
        let kind = quote.isTDX ? "tdx" : "sgx"
        // Intel issues PCK certificates from two CAs, each with its own CRL; the leaf's issuer says which.
        let ca = leaf.issuer.description.contains("Processor") ? "processor" : "platform"
        let (pckCRL, pckCRLHeaders) = try await get("/sgx/certification/v4/pckcrl?ca=\(ca)&encoding=der")
        let (tcb, tcbHeaders) = try await get("/\(kind)/certification/v4/tcb?fmspc=\(fmspc)")
        let (qe, qeHeaders) = try await get("/\(kind)/certification/v4/qe/identity")
        let (rootCRL, _) = try await get("/sgx/certification/v4/rootcacrl")
        let tcbText = String(decoding: tcb, as: UTF8.self), qeText = String(decoding: qe, as: UTF8.self)
        guard let tcbInfo = Self.rawMember("tcbInfo", in: tcbText), let tcbSignature = Self.stringMember("signature", in: tcbText),
            let qeIdentity = Self.rawMember("enclaveIdentity", in: qeText), let qeSignature = Self.stringMember("signature", in: qeText)
        else { throw ValidationError("the PCCS's TCB info or QE identity is not {\"tcbInfo\"/\"enclaveIdentity\": …, \"signature\": …}") }
        return Collateral(
            pckCRLIssuerChain: try Self.chain(pckCRLHeaders, "SGX-PCK-CRL-Issuer-Chain"), rootCACRL: Self.hexOrDER(rootCRL),
            pckCRL: Self.hexOrDER(pckCRL), tcbInfoIssuerChain: try Self.chain(tcbHeaders, "TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain"),
            tcbInfo: tcbInfo, tcbInfoSignature: tcbSignature,
            qeIdentityIssuerChain: try Self.chain(qeHeaders, "SGX-Enclave-Identity-Issuer-Chain"), qeIdentity: qeIdentity, qeIdentitySignature: qeSignature)
    }

    private func get(_ path: String) async throws -> (Data, [String: String]) {
        let url = base.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path
        guard URL(string: url) != nil else { throw ValidationError("bad PCCS URL \(base)") }
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 16 << 20)
        guard response.status.code == 200 else { throw ValidationError("\(url) answered \(response.status.code)") }
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        return (Data(body.readableBytesView), headers)
    }

    private static func chain(_ headers: [String: String], _ names: String...) throws -> String {
        for name in names { if let value = headers[name.lowercased()] { return value.removingPercentEncoding ?? value } }
        throw ValidationError("the PCCS sent no \(names[0]) header")
    }

    /// CRLs come as DER from Intel's PCS and as hex from some PCCSs; the collateral keeps hex.
    private static func hexOrDER(_ data: Data) -> String {
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if !text.isEmpty, text.allSatisfy(\.isHexDigit) { return text.lowercased() }
        return data.hexString
    }

    /// The exact text of the JSON member `name`'s object value, braces balanced, strings respected.
    static func rawMember(_ name: String, in text: String) -> String? {
        guard let key = text.range(of: "\"\(name)\"") else { return nil }
        guard let start = text[key.upperBound...].firstIndex(of: "{") else { return nil }
        var depth = 0, inString = false, escaped = false
        var index = start
        while index < text.endIndex {
            let character = text[index]
            if inString {
                if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { inString = false }
            } else if character == "\"" {
                inString = true
            } else if character == "{" {
                depth += 1
            } else if character == "}" {
                depth -= 1
                if depth == 0 { return String(text[start...index]) }
            }
            index = text.index(after: index)
        }
        return nil
    }

    static func stringMember(_ name: String, in text: String) -> String? {
        guard (try? StrictJSON.validate(Array(text.utf8))) != nil, let data = text.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object[name] as? String
    }
}
