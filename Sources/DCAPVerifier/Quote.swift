/// A parsed DCAP quote: TDX (v4, v5 with a TD 1.0 or 1.5 body) or SGX (v3). Every field named.
public struct Quote: Sendable, Hashable {
    public struct Header: Sendable, Hashable {
        public let version: UInt16
        /// 2: ECDSA-256 with P-256.
        public let attestationKeyType: UInt16
        /// 0: SGX, 0x81: TDX.
        public let teeType: UInt32
        public let qeSVN: UInt16
        public let pceSVN: UInt16
        public let qeVendorID: [UInt8]
        public let userData: [UInt8]
    }

    public enum Body: Sendable, Hashable {
        case td(TDReport)
        case sgx(EnclaveReport)
    }

    public let header: Header
    public let body: Body
    /// The bytes the attestation key signs: header and body.
    public let signedBytes: [UInt8]
    public let signature: SignatureData
    /// The whole quote as given.
    public let raw: [UInt8]

    public var isTDX: Bool { header.teeType == 0x81 }

    /// The 64 bytes of report data the quoted environment chose.
    public var reportData: [UInt8] {
        switch body {
        case .td(let report): report.reportData
        case .sgx(let report): report.reportData
        }
    }

    /// Parses a quote; any truncation or inconsistency is an error naming the field.
    public static func parse(_ bytes: [UInt8]) throws(QuoteParseError) -> Quote {
        var reader = ByteReader(bytes)
        let version = try reader.u16("header.version")
        let keyType = try reader.u16("header.attestation_key_type")
        let teeType = try reader.u32("header.tee_type")
        let qeSVN = try reader.u16("header.qe_svn")
        let pceSVN = try reader.u16("header.pce_svn")
        let vendor = try reader.take(16, "header.qe_vendor_id")
        let userData = try reader.take(20, "header.user_data")
        let header = Header(version: version, attestationKeyType: keyType, teeType: teeType, qeSVN: qeSVN, pceSVN: pceSVN, qeVendorID: vendor, userData: userData)
        guard keyType == 2 else { throw QuoteParseError("header.attestation_key_type \(keyType) is not ECDSA P-256 (2)") }

        let body: Body
        switch (version, teeType) {
        case (4, 0x81):
            body = .td(try TDReport.parse(&reader, isTD15: false))
        case (5, 0x81), (5, 0):
            let bodyType = try reader.u16("body_descriptor.type")
            let bodySize = try reader.u32("body_descriptor.size")
            switch (bodyType, bodySize) {
            case (2, 584): body = .td(try TDReport.parse(&reader, isTD15: false))
            case (3, 648): body = .td(try TDReport.parse(&reader, isTD15: true))
            case (1, 384): body = .sgx(try EnclaveReport.parse(&reader))
            default: throw QuoteParseError("body_descriptor: type \(bodyType) with size \(bodySize) is not an SGX (1/384), TD 1.0 (2/584) or TD 1.5 (3/648) body")
            }
        case (3, 0):
            body = .sgx(try EnclaveReport.parse(&reader))
        default:
            throw QuoteParseError("version \(version) with tee_type 0x\(String(teeType, radix: 16)) is not a supported quote (SGX v3, TDX v4, v5)")
        }
        let signedBytes = Array(bytes[0..<reader.offset])
        let signatureLength = Int(try reader.u32("signature_data_len"))
        guard signatureLength <= reader.remaining else {
            throw QuoteParseError("signature_data_len \(signatureLength) is longer than the \(reader.remaining) bytes left")
        }
        var signatureReader = ByteReader(try reader.take(signatureLength, "signature_data"))
        // SGX v3 puts the QE report straight after the key; v4 and v5 wrap it in certification data type 6.
        let signature = try SignatureData.parse(&signatureReader, wrapped: version != 3)
        return Quote(header: header, body: body, signedBytes: signedBytes, signature: signature, raw: bytes)
    }
}

/// The body of a TDX quote: the TD's measurements and report data.
public struct TDReport: Sendable, Hashable {
    public let teeTCBSVN: [UInt8]
    public let mrSeam: [UInt8]
    public let mrSignerSeam: [UInt8]
    public let seamAttributes: [UInt8]
    public let tdAttributes: [UInt8]
    public let xfam: [UInt8]
    public let mrTD: [UInt8]
    public let mrConfigID: [UInt8]
    public let mrOwner: [UInt8]
    public let mrOwnerConfig: [UInt8]
    /// RTMR0–3.
    public let rtmrs: [[UInt8]]
    public let reportData: [UInt8]
    /// TD 1.5 only.
    public let teeTCBSVN2: [UInt8]?
    public let mrServiceTD: [UInt8]?

    /// Whether the TD runs in debug mode (TD_ATTRIBUTES bit 0): its memory is readable by the host.
    public var isDebug: Bool { tdAttributes.first.map { $0 & 1 == 1 } ?? true }

    static func parse(_ reader: inout ByteReader, isTD15: Bool) throws(QuoteParseError) -> TDReport {
        let teeTCBSVN = try reader.take(16, "td.tee_tcb_svn")
        let mrSeam = try reader.take(48, "td.mr_seam")
        let mrSignerSeam = try reader.take(48, "td.mr_signer_seam")
        let seamAttributes = try reader.take(8, "td.seam_attributes")
        let tdAttributes = try reader.take(8, "td.td_attributes")
        let xfam = try reader.take(8, "td.xfam")
        let mrTD = try reader.take(48, "td.mr_td")
        let mrConfigID = try reader.take(48, "td.mr_config_id")
        let mrOwner = try reader.take(48, "td.mr_owner")
        let mrOwnerConfig = try reader.take(48, "td.mr_owner_config")
        var rtmrs: [[UInt8]] = []
        for index in 0..<4 { rtmrs.append(try reader.take(48, "td.rtmr\(index)")) }
        let reportData = try reader.take(64, "td.report_data")
        var svn2: [UInt8]?, mrServiceTD: [UInt8]?
        if isTD15 {
            svn2 = try reader.take(16, "td.tee_tcb_svn_2")
            mrServiceTD = try reader.take(48, "td.mr_service_td")
        }
        return TDReport(
            teeTCBSVN: teeTCBSVN, mrSeam: mrSeam, mrSignerSeam: mrSignerSeam, seamAttributes: seamAttributes, tdAttributes: tdAttributes,
            xfam: xfam, mrTD: mrTD, mrConfigID: mrConfigID, mrOwner: mrOwner, mrOwnerConfig: mrOwnerConfig, rtmrs: rtmrs,
            reportData: reportData, teeTCBSVN2: svn2, mrServiceTD: mrServiceTD)
    }
}

/// An SGX enclave report (the body of an SGX quote, and the QE report inside every quote).
public struct EnclaveReport: Sendable, Hashable {
    public let cpuSVN: [UInt8]
    public let miscSelect: UInt32
    public let attributes: [UInt8]
    public let mrEnclave: [UInt8]
    public let mrSigner: [UInt8]
    public let isvProdID: UInt16
    public let isvSVN: UInt16
    public let reportData: [UInt8]
    /// The 384 bytes as signed.
    public let raw: [UInt8]

    static let size = 384

    static func parse(_ reader: inout ByteReader) throws(QuoteParseError) -> EnclaveReport {
        let raw = try reader.take(size, "enclave_report")
        var fields = ByteReader(raw)
        let cpuSVN = try fields.take(16, "report.cpu_svn")
        let miscSelect = try fields.u32("report.misc_select")
        _ = try fields.take(28, "report.reserved1")
        let attributes = try fields.take(16, "report.attributes")
        let mrEnclave = try fields.take(32, "report.mr_enclave")
        _ = try fields.take(32, "report.reserved2")
        let mrSigner = try fields.take(32, "report.mr_signer")
        _ = try fields.take(96, "report.reserved3")
        let prodID = try fields.u16("report.isv_prod_id")
        let svn = try fields.u16("report.isv_svn")
        _ = try fields.take(60, "report.reserved4")
        let reportData = try fields.take(64, "report.report_data")
        return EnclaveReport(cpuSVN: cpuSVN, miscSelect: miscSelect, attributes: attributes, mrEnclave: mrEnclave, mrSigner: mrSigner,
                             isvProdID: prodID, isvSVN: svn, reportData: reportData, raw: raw)
    }
}

/// The quote's signature section: the attestation key's signature, and how that key is certified (a QE
/// report signed by the PCK key, whose certificate chain leads to Intel's root).
public struct SignatureData: Sendable, Hashable {
    /// ECDSA P-256 r‖s over the header and body.
    public let quoteSignature: [UInt8]
    /// The attestation public key, x‖y.
    public let attestationKey: [UInt8]
    public let qeReport: EnclaveReport
    /// ECDSA P-256 r‖s by the PCK key over the QE report.
    public let qeReportSignature: [UInt8]
    public let qeAuthData: [UInt8]
    /// The PEM certificate chain: PCK leaf, intermediate, root.
    public let pckChainPEM: String

    static func parse(_ reader: inout ByteReader, wrapped: Bool) throws(QuoteParseError) -> SignatureData {
        let signature = try reader.take(64, "signature.quote_signature")
        let key = try reader.take(64, "signature.attestation_key")
        var certification: (type: UInt16, reader: ByteReader)
        if wrapped {
            certification = try certificationData(&reader, field: "signature.certification_data")
            guard certification.type == 6 else {
                throw QuoteParseError("signature.certification_data type \(certification.type) is not a QE report (6)")
            }
        } else {
            certification = (6, reader)
        }
        let qeReport = try EnclaveReport.parse(&certification.reader)
        let qeSignature = try certification.reader.take(64, "qe_report_signature")
        let authLength = Int(try certification.reader.u16("qe_auth_data.size"))
        let authData = try certification.reader.take(authLength, "qe_auth_data")
        var inner = try certificationData(&certification.reader, field: "qe_certification_data")
        guard inner.type == 5 else { throw QuoteParseError("qe_certification_data type \(inner.type) is not a PEM chain (5)") }
        let pem = try inner.reader.take(inner.reader.remaining, "pck_chain")
        return SignatureData(
            quoteSignature: signature, attestationKey: key, qeReport: qeReport, qeReportSignature: qeSignature, qeAuthData: authData,
            pckChainPEM: String(decoding: pem.prefix { $0 != 0 }, as: UTF8.self))
    }

    private static func certificationData(_ reader: inout ByteReader, field: String) throws(QuoteParseError) -> (type: UInt16, reader: ByteReader) {
        let type = try reader.u16("\(field).type")
        let size = Int(try reader.u32("\(field).size"))
        return (type, ByteReader(try reader.take(size, "\(field).data")))
    }
}
