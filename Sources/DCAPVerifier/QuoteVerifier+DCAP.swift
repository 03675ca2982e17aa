import Foundation

/// A quote that passed every check and whose TCB status the caller accepts. Only ``QuoteVerifier`` makes
/// one, so holding it is proof of verification.
public struct VerifiedQuote: Sendable, Hashable {
    public let quote: Quote
    public let tcbStatus: String
    public let advisoryIDs: [String]
    fileprivate init(quote: Quote, tcbStatus: String, advisoryIDs: [String]) {
        self.quote = quote
        self.tcbStatus = tcbStatus
        self.advisoryIDs = advisoryIDs
    }
}

/// Every check of a full DCAP verification, the TCB verdict, and the proof when everything passed.
public struct DCAPReport: Sendable, Hashable {
    public let checks: [QuoteVerifier.Check]
    /// `UpToDate`, `SWHardeningNeeded`, `ConfigurationNeeded`, `ConfigurationAndSWHardeningNeeded`, `OutOfDate`,
    /// `OutOfDateConfigurationNeeded`, `Revoked`; `nil` when no level could be determined.
    public let tcbStatus: String?
    public let advisoryIDs: [String]
    public let verified: VerifiedQuote?

    public var passed: Bool { verified != nil }
}

extension QuoteVerifier {
    /// Statuses accepted unless the caller says otherwise.
    public static let defaultAcceptableStatuses: Set<String> = ["UpToDate"]

    /// Full DCAP verification: the signatures and chain, the collateral (signatures, issuers, windows,
    /// CRLs), the TCB level of the platform, the QE and the TDX module, and the TD's attributes.
    /// - Parameters:
    ///   - time: the validation time (fixed for reproducible checks; collateral has a validity window).
    ///   - acceptable: TCB statuses that count as verified; others fail with the status as the reason.
    public func verify(quote: Quote, collateral: Collateral, at time: Date, acceptable: Set<String> = defaultAcceptableStatuses) async -> DCAPReport {
        var checks = await verifySignatures(of: quote, at: time)
        if case .td(let report) = quote.body {
            checks.append(.init(name: "td_attributes", passed: !report.isDebug, detail: report.isDebug ? "a debug TD: its memory is readable by the host" : "not a debug TD"))
        } else if case .sgx(let report) = quote.body {
            let debug = report.attributes.first.map { $0 & 0x02 != 0 } ?? true
            checks.append(.init(name: "enclave_attributes", passed: !debug, detail: debug ? "a debug enclave" : "not a debug enclave"))
        }
        guard let checked = await checkCollateral(collateral, for: quote, at: time, into: &checks) else {
            return DCAPReport(checks: checks, tcbStatus: nil, advisoryIDs: [], verified: nil)
        }
        var status: String?
        var advisories: [String] = []
        do throws(TCBEvaluation.Failure) {
            var tdReport: TDReport?
            if case .td(let report) = quote.body { tdReport = report }
            let platform = try TCBEvaluation.platformLevel(checked.tcbInfo, pck: checked.pck, teeTCBSVN: tdReport?.teeTCBSVN)
            var merged = platform.tcbStatus
            advisories += platform.advisoryIDs ?? []
            let qe = try TCBEvaluation.qeLevel(checked.qeIdentity, report: quote.signature.qeReport)
            merged = TCBEvaluation.converge(merged, with: qe.tcbStatus)
            advisories += qe.advisoryIDs ?? []
            if let tdReport, let module = try TCBEvaluation.moduleLevel(checked.tcbInfo, report: tdReport) {
                merged = TCBEvaluation.converge(merged, with: module.tcbStatus)
                advisories += module.advisoryIDs ?? []
            }
            status = merged
            checks.append(.init(name: "tcb_level", passed: true, detail: "platform \(platform.tcbStatus), QE \(qe.tcbStatus): \(merged)"))
        } catch {
            switch error {
            case .noMatchingLevel(let reason), .identityMismatch(let reason):
                checks.append(.init(name: "tcb_level", passed: false, detail: reason))
            }
        }
        var seen = Set<String>()
        advisories = advisories.filter { seen.insert($0).inserted }
        if let status {
            let accepted = acceptable.contains(status)
            checks.append(.init(
                name: "tcb_status", passed: accepted,
                detail: accepted ? "TCB status \(status) is acceptable" : "TCB status \(status) is not acceptable (accepted: \(acceptable.sorted().joined(separator: ", ")))" + (advisories.isEmpty ? "" : "; advisories \(advisories.joined(separator: ", "))")))
        }
        let passed = checks.allSatisfy(\.passed)
        return DCAPReport(
            checks: checks, tcbStatus: status, advisoryIDs: advisories,
            verified: passed && status != nil ? VerifiedQuote(quote: quote, tcbStatus: status!, advisoryIDs: advisories) : nil)
    }
}
