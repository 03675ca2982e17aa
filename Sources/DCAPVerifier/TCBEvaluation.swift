import Foundation

/// Selects the TCB level a quote's platform is at, and merges it with the QE's and the TDX module's
/// levels into one status, the way Intel's verification library does.
enum TCBEvaluation {
    struct Result {
        let status: String
        let advisoryIDs: [String]
        let detail: String
    }

    enum Failure: Error { case noMatchingLevel(String), identityMismatch(String) }

    /// The platform's level: the first (highest) level every one of whose SVNs the platform meets.
    static func platformLevel(_ info: TCBInfo, pck: PCKExtension, teeTCBSVN: [UInt8]?) throws(Failure) -> TCBInfo.Level {
        for level in info.tcbLevels {
            let sgx = level.tcb.sgxtcbcomponents
            guard sgx.count == 16, zip(pck.componentSVNs, sgx).allSatisfy({ $0 >= $1.svn }), pck.pceSVN >= level.tcb.pcesvn else { continue }
            if let teeTCBSVN {
                guard let tdx = level.tcb.tdxtcbcomponents, tdx.count == 16 else { continue }
                // With a TDX module version (byte 1) above 0, bytes 0–1 are the module's and are judged by its
                // identity instead.
                let first = teeTCBSVN[1] > 0 ? 2 : 0
                guard (first..<16).allSatisfy({ Int(teeTCBSVN[$0]) >= tdx[$0].svn }) else { continue }
            }
            return level
        }
        throw .noMatchingLevel("no TCB level matches the platform (PCK TCB \(pck.componentSVNs), PCESVN \(pck.pceSVN)" + (teeTCBSVN.map { ", TEE TCB SVN \($0.hexString)" } ?? "") + ")")
    }

    /// The TDX module's status, from `tdxModuleIdentities`, when the module version is above 0.
    static func moduleLevel(_ info: TCBInfo, report: TDReport) throws(Failure) -> TCBInfo.ModuleLevel? {
        let version = report.teeTCBSVN[1]
        guard version > 0, let identities = info.tdxModuleIdentities else { return nil }
        let id = "TDX_" + String(format: "%02X", version)
        guard let identity = identities.first(where: { $0.id == id }) else { throw .identityMismatch("no TDX module identity \(id) in the TCB info") }
        guard identity.mrsigner.lowercased() == report.mrSignerSeam.hexString else {
            throw .identityMismatch("the TDX module's MRSIGNER does not match identity \(id)")
        }
        guard maskedEqual(report.seamAttributes, identity.attributes, mask: identity.attributesMask) else {
            throw .identityMismatch("the TDX module's attributes do not match identity \(id)")
        }
        guard let level = identity.tcbLevels.first(where: { Int(report.teeTCBSVN[0]) >= $0.tcb.isvsvn }) else {
            throw .noMatchingLevel("no TCB level of TDX module identity \(id) matches ISVSVN \(report.teeTCBSVN[0])")
        }
        return level
    }

    /// The QE's status from the QE identity.
    static func qeLevel(_ identity: QEIdentity, report: EnclaveReport) throws(Failure) -> QEIdentity.Level {
        guard identity.mrsigner.lowercased() == report.mrSigner.hexString else { throw .identityMismatch("the QE's MRSIGNER is not the QE identity's") }
        guard identity.isvprodid == Int(report.isvProdID) else { throw .identityMismatch("the QE's ISVPRODID \(report.isvProdID) is not \(identity.isvprodid)") }
        let misc = withUnsafeBytes(of: report.miscSelect.bigEndian, Array.init)
        guard maskedEqual(misc, identity.miscselect, mask: identity.miscselectMask) else { throw .identityMismatch("the QE's MISCSELECT does not match") }
        guard maskedEqual(report.attributes, identity.attributes, mask: identity.attributesMask) else { throw .identityMismatch("the QE's attributes do not match") }
        guard let level = identity.tcbLevels.first(where: { Int(report.isvSVN) >= $0.tcb.isvsvn }) else {
            throw .noMatchingLevel("no QE identity TCB level matches the QE's ISVSVN \(report.isvSVN)")
        }
        return level
    }

    /// Merges the platform's status with the QE's or the module's (Intel's convergence rules).
    static func converge(_ platform: String, with other: String) -> String {
        switch other {
        case "Revoked": return "Revoked"
        case "OutOfDate":
            switch platform {
            case "UpToDate", "SWHardeningNeeded": return "OutOfDate"
            case "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded": return "OutOfDateConfigurationNeeded"
            default: return platform
            }
        default: return platform
        }
    }

    static func maskedEqual(_ value: [UInt8], _ expectedHex: String, mask maskHex: String) -> Bool {
        guard let expected = bytes(fromHex: expectedHex), let mask = bytes(fromHex: maskHex), expected.count == mask.count, value.count >= mask.count else { return false }
        return (0..<mask.count).allSatisfy { value[$0] & mask[$0] == expected[$0] }
    }
}
