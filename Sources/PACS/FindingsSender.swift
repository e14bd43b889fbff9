import Basics
import Foundation
import Imaging

/// Sends findings into their studies with STOW-RS, one case at a time, and keeps a ledger of what it sent (beside
/// the instance cache, one file per server) so that sending again is idempotent and a changed decision supersedes:
/// - the same findings again: the same UIDs and the same bytes (the PACS keeps one copy);
/// - changed findings (a new decision, class or box): new UIDs, and the new SR names the one it replaces in its
///   Predecessor Documents Sequence.
/// The ledger is this machine's memory: findings sent from another machine are not known here.
public final class FindingsSender {
    public struct Report: Equatable {
        public var stored = 0, unchanged = 0, superseding = 0
        /// Case (SOP Instance UID) → why it was not stored.
        public var failed: [String: String] = [:]
    }

    private let client: DICOMwebClient
    private let ledgerPath: String
    private var ledger: [String: Entry]

    struct Entry: Codable, Equatable {
        var contentKey: String
        var uids: FindingsUIDs
    }

    public init(client: DICOMwebClient, cache: InstanceCache) {
        self.client = client
        ledgerPath = "\(cache.folder)/sent-\(FindingsUID.make(["ledger", client.server.display]).suffix(20)).json"
        ledger = (try? ImageDecoder.readFile(ledgerPath)).flatMap { try? JSONDecoder().decode([String: Entry].self, from: $0) } ?? [:]
    }

    /// The UIDs the findings get, and whether they were sent as they are already.
    func uids(for f: CaseFindings) -> (uids: FindingsUIDs, unchanged: Bool) {
        let slot = ledgerKey(f)
        if let previous = ledger[slot], previous.contentKey == f.contentKey { return (previous.uids, true) }
        let previous = ledger[slot]?.uids
        // The series are the reviewer's in this study; the instances are this content after that predecessor.
        let seed = [f.contentKey, previous?.srInstance ?? ""]
        return (FindingsUIDs(srSeries: FindingsUID.make(["sr-series", f.study, f.reviewer, f.role]),
                             srInstance: FindingsUID.make(["sr"] + seed),
                             prSeries: FindingsUID.make(["pr-series", f.study, f.reviewer, f.role]),
                             prInstance: FindingsUID.make(["pr"] + seed),
                             predecessorSeries: previous?.srSeries, predecessorInstance: previous?.srInstance), false)
    }

    private func ledgerKey(_ f: CaseFindings) -> String { [f.sop, f.reviewer, f.role].joined(separator: "|") }

    /// Writes and stores each case's SR and presentation state; a case that fails is reported, the others go on.
    public func send(_ findings: [CaseFindings]) throws -> Report {
        var report = Report()
        for f in findings {
            let (uids, unchanged) = uids(for: f)
            do {
                let objects = try FindingsObjects.write(f, uids: uids)
                let outcome = try client.store([objects.sr, objects.pr])
                if outcome.status == 200 || (outcome.status == 202 && outcome.failed.isEmpty) {
                    if unchanged { report.unchanged += 1 } else { report.stored += 1 }
                    if !unchanged && uids.predecessorInstance != nil { report.superseding += 1 }
                    ledger[ledgerKey(f)] = Entry(contentKey: f.contentKey, uids: uids)
                    try saveLedger()
                } else {
                    report.failed[f.sop] = "\(DICOMwebClient.statusText(outcome.status)): "
                        + outcome.failed.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                }
            } catch let error as PACSError where error.message.contains("cannot reach") || error.message.contains("401") {
                throw error   // the server is gone or refuses us: no point trying the next case
            } catch {
                report.failed[f.sop] = "\(error)"
            }
        }
        return report
    }

    private func saveLedger() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        do { try AtomicFile.write(try encoder.encode(ledger), to: ledgerPath) } catch {
            throw PACSError("cannot record what was sent in \(ledgerPath): \(error)")
        }
    }
}
