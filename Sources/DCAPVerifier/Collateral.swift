import Foundation
import OAuth3Wire

/// What Intel's PCS (or a PCCS) publishes to verify a quote: TCB info and QE identity with their
/// signatures and issuer chains, and the root and PCK CRLs. The JSON layout of the test vectors (and of
/// dcap-qvl): certificates as PEM, CRLs as hex DER, signatures as hex r‖s.
public struct Collateral: Sendable, Hashable, Codable {
    /// Kept for the format; the PCK CRL is checked against the CA in the quote's own chain instead.
    public var pckCRLIssuerChain: String
    public var rootCACRL: String
    public var pckCRL: String
    public var tcbInfoIssuerChain: String
    /// The TCB info JSON, exactly as signed.
    public var tcbInfo: String
    public var tcbInfoSignature: String
    public var qeIdentityIssuerChain: String
    /// The QE identity JSON, exactly as signed.
    public var qeIdentity: String
    public var qeIdentitySignature: String

    public init(
        pckCRLIssuerChain: String, rootCACRL: String, pckCRL: String, tcbInfoIssuerChain: String, tcbInfo: String, tcbInfoSignature: String,
        qeIdentityIssuerChain: String, qeIdentity: String, qeIdentitySignature: String
    ) {
        self.pckCRLIssuerChain = pckCRLIssuerChain
        self.rootCACRL = rootCACRL
        self.pckCRL = pckCRL
        self.tcbInfoIssuerChain = tcbInfoIssuerChain
        self.tcbInfo = tcbInfo
        self.tcbInfoSignature = tcbInfoSignature
        self.qeIdentityIssuerChain = qeIdentityIssuerChain
        self.qeIdentity = qeIdentity
        self.qeIdentitySignature = qeIdentitySignature
    }

    enum CodingKeys: String, CodingKey {
        case pckCRLIssuerChain = "pck_crl_issuer_chain", rootCACRL = "root_ca_crl", pckCRL = "pck_crl"
        case tcbInfoIssuerChain = "tcb_info_issuer_chain", tcbInfo = "tcb_info", tcbInfoSignature = "tcb_info_signature"
        case qeIdentityIssuerChain = "qe_identity_issuer_chain", qeIdentity = "qe_identity", qeIdentitySignature = "qe_identity_signature"
    }

    /// Decodes the JSON layout of the test vectors.
    public static func decode(_ json: [UInt8]) throws(QuoteParseError) -> Collateral {
        do { return try StrictJSON.decode(Collateral.self, from: json) } catch {
            throw QuoteParseError("collateral is not the expected JSON object: \(error)")
        }
    }
}

/// The TCB info document (TDX or SGX, version 3).
public struct TCBInfo: Sendable, Hashable, Decodable {
    public struct Component: Sendable, Hashable, Decodable { public let svn: Int }
    public struct TCB: Sendable, Hashable, Decodable {
        public let sgxtcbcomponents: [Component]
        public let pcesvn: Int
        public let tdxtcbcomponents: [Component]?
    }
    public struct Level: Sendable, Hashable, Decodable {
        public let tcb: TCB
        public let tcbStatus: String
        public let advisoryIDs: [String]?
    }
    public struct ModuleLevel: Sendable, Hashable, Decodable {
        public struct SVN: Sendable, Hashable, Decodable { public let isvsvn: Int }
        public let tcb: SVN
        public let tcbStatus: String
        public let advisoryIDs: [String]?
    }
    public struct ModuleIdentity: Sendable, Hashable, Decodable {
        public let id: String
        public let mrsigner: String
        public let attributes: String
        public let attributesMask: String
        public let tcbLevels: [ModuleLevel]
    }
    public struct Module: Sendable, Hashable, Decodable {
        public let mrsigner: String
        public let attributes: String
        public let attributesMask: String
    }
    public let id: String
    public let version: Int
    public let issueDate: String
    public let nextUpdate: String
    public let fmspc: String
    public let pceId: String
    public let tcbLevels: [Level]
    public let tdxModule: Module?
    public let tdxModuleIdentities: [ModuleIdentity]?
}

/// The QE identity document.
public struct QEIdentity: Sendable, Hashable, Decodable {
    public struct Level: Sendable, Hashable, Decodable {
        public struct SVN: Sendable, Hashable, Decodable { public let isvsvn: Int }
        public let tcb: SVN
        public let tcbStatus: String
        public let advisoryIDs: [String]?
    }
    public let id: String
    public let issueDate: String
    public let nextUpdate: String
    public let miscselect: String
    public let miscselectMask: String
    public let attributes: String
    public let attributesMask: String
    public let mrsigner: String
    public let isvprodid: Int
    public let tcbLevels: [Level]
}
