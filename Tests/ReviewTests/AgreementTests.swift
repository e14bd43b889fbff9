import Foundation
@testable import Metrics
@testable import Store
import XCTest

/// fracview's agreement numbers against scikit-learn's `cohen_kappa_score` and statsmodels' `fleiss_kappa` on a seeded
/// synthetic team (Tests/Fixtures/agreement/make_agreement_fixture.py), to 1e-9.
final class AgreementTests: XCTestCase {
    struct Fixture: Decodable {
        struct Read: Decodable { let path: String; let truth: Int; let reader: String; let `class`: Int? }
        struct Pair: Decodable { let n: Int; let kappa: Double; let percent_agreement: Double }
        struct Fleiss: Decodable { let n: Int; let kappa: Double; let all_agree: Double }
        let classes: [String]
        let split: String
        let reads: [Read]
        let cohen_pairs: [String: Pair]
        let cohen_vs_labels: [String: Pair]
        let fleiss: Fleiss
        let single_reader_cases: Int
    }

    static func fixture() throws -> Fixture {
        let path = RepoPaths.root.appendingPathComponent("Tests/Fixtures/agreement/agreement_fixture.json").path
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// The fixture's reads as the decisions a blind reader would have stored.
    static func decisions(_ f: Fixture) -> [ReviewDecision] {
        f.reads.enumerated().map { i, r in
            let status: ReviewStatus = r.class == nil ? .flagged : (r.class == r.truth ? .accepted : .relabelled)
            return ReviewDecision(caseID: r.path, split: f.split, reviewer: r.reader, status: status, truth: r.truth,
                                  predicted: nil, probabilities: [], reviewerLabel: status == .relabelled ? r.class : nil,
                                  note: "", reviewedAt: Date(timeIntervalSince1970: 1_764_000_000 + Double(i)),
                                  weightsID: "", readMode: .blind)
        }
    }

    private func check(_ a: ReaderAgreement, against f: Fixture, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.readers, ["alice", "bob", "carol"], file: file, line: line)
        XCTAssertEqual(a.pairs.count, 3, file: file, line: line)
        for p in a.pairs {
            let ref = f.cohen_pairs["\(p.first)|\(p.second)"]!
            XCTAssertEqual(p.cases, ref.n, file: file, line: line)
            XCTAssertEqual(p.kappa!, ref.kappa, accuracy: 1e-9, "\(p.first)×\(p.second)", file: file, line: line)
            XCTAssertEqual(p.percentAgreement!, ref.percent_agreement, accuracy: 1e-12, file: file, line: line)
            XCTAssertLessThan(p.kappaCI!.low, p.kappa!, file: file, line: line)
            XCTAssertGreaterThan(p.kappaCI!.high, p.kappa!, file: file, line: line)
        }
        for p in a.versusLabels {
            let ref = f.cohen_vs_labels[p.first]!
            XCTAssertEqual(p.cases, ref.n, file: file, line: line)
            XCTAssertEqual(p.kappa!, ref.kappa, accuracy: 1e-9, "\(p.first) × labels", file: file, line: line)
        }
        // The readers were made 0.85, 0.70, 0.55 accurate: their κ against the labels keeps that order.
        XCTAssertGreaterThan(a.versusLabels[0].kappa!, a.versusLabels[1].kappa!, file: file, line: line)
        XCTAssertGreaterThan(a.versusLabels[1].kappa!, a.versusLabels[2].kappa!, file: file, line: line)
        XCTAssertEqual(a.fleiss?.cases, f.fleiss.n, file: file, line: line)
        XCTAssertEqual(a.fleiss!.kappa!, f.fleiss.kappa, accuracy: 1e-9, file: file, line: line)
        XCTAssertEqual(a.fleiss!.allAgree!, f.fleiss.all_agree, accuracy: 1e-12, file: file, line: line)
        XCTAssertEqual(a.singleReaderCases.count, f.single_reader_cases, file: file, line: line)
        XCTAssertEqual(a.readsByMode, ["blind": f.reads.count], file: file, line: line)
    }

    func testKappasMatchScikitLearnAndStatsmodels() throws {
        let f = try Self.fixture()
        check(ReaderAgreement(decisions: Self.decisions(f), classes: f.classes, split: f.split), against: f)
    }

    func testKappaDefinitionsOnHandWorkedCases() {
        // Perfect agreement, chance-level agreement, undefined (both always the same single class).
        XCTAssertEqual(ReaderAgreement.cohenKappa([0, 1, 2, 0], [0, 1, 2, 0], classCount: 3)!, 1, accuracy: 1e-12)
        XCTAssertEqual(ReaderAgreement.cohenKappa([0, 0, 1, 1], [0, 1, 0, 1], classCount: 2)!, 0, accuracy: 1e-12)
        XCTAssertNil(ReaderAgreement.cohenKappa([1, 1], [1, 1], classCount: 3))
        XCTAssertNil(ReaderAgreement.cohenKappa([], [], classCount: 3))
        // Fleiss (Wikipedia's worked example, first rows only would differ: use a symmetric case): every case all
        // raters agree → 1; a table with unequal raters is refused.
        XCTAssertEqual(ReaderAgreement.fleissKappa([[3, 0], [0, 3], [3, 0]])!, 1, accuracy: 1e-12)
        XCTAssertNil(ReaderAgreement.fleissKappa([[3, 0], [1, 1]]))
    }

    func testAdjudicationsAndFlagsAreCountedApart() {
        let f = try! Self.fixture()
        var decisions = Self.decisions(f)
        let a = ReaderAgreement(decisions: decisions, classes: f.classes, split: f.split, resamples: 200)
        XCTAssertGreaterThan(a.disputedCases, 0)
        XCTAssertEqual(a.adjudicatedDisputes, 0)
        // An adjudicator settles one disputed case: κ unchanged (adjudications are not reads), one dispute settled.
        let disputed = TeamReads(decisions: decisions).reads.first { TeamReads.disagree($0.value.map(\.decidedClass)) }!
        var settle = disputed.value[0]
        settle.reviewer = "dana"; settle.role = .adjudicator
        decisions.append(settle)
        let b = ReaderAgreement(decisions: decisions, classes: f.classes, split: f.split, resamples: 200)
        XCTAssertEqual(b.adjudicatedDisputes, 1)
        XCTAssertEqual(b.readers, a.readers)
        XCTAssertEqual(b.pairs.map(\.kappa), a.pairs.map(\.kappa))
    }

    func testGroupBootstrapIsWiderWhenCopiesAreGrouped() {
        let f = try! Self.fixture()
        let decisions = Self.decisions(f)
        // Pretend every four consecutive cases are copies of one X-ray: fewer independent units, a wider CI.
        var groups: [String: String] = [:]
        for r in f.reads { groups[r.path] = String(Int(r.path.dropFirst("test/images/case".count).prefix(3))! / 4) }
        let byCase = ReaderAgreement(decisions: decisions, classes: f.classes, split: f.split, resamples: 500)
        let byGroup = ReaderAgreement(decisions: decisions, classes: f.classes, split: f.split, groups: groups, resamples: 500)
        XCTAssertEqual(byGroup.bootstrapUnit, "groups")
        XCTAssertEqual(byGroup.pairs[0].kappa, byCase.pairs[0].kappa, "the estimate does not depend on the unit")
        XCTAssertNotEqual(byGroup.pairs[0].kappaCI, byCase.pairs[0].kappaCI)
    }

    /// `fracview agreement --json` on a review database seeded with the team: the same numbers, through the CLI.
    func testAgreementCommandOnASeededDatabase() throws {
        let f = try Self.fixture()
        let dir = try makeStoreTempDir(self)
        let store = try ReviewStore(path: dir + "/team.sqlite")
        try store.setSessionInfo(datasetRoot: "/d", classes: f.classes)
        for d in Self.decisions(f) { try store.record(d) }
        try checkCommand(db: dir + "/team.sqlite", fixture: f)
        let text = try Fracview.run(["agreement", "--db", dir + "/team.sqlite", "--split", "test", "--resamples", "100"])
        XCTAssertEqual(text.status, 0, text.output)
        XCTAssertTrue(text.output.contains("Fleiss' κ, all 3 readers: \(String(format: "%.3f", f.fleiss.kappa))"), text.output)
        XCTAssertTrue(text.output.contains("percentile bootstrap over cases"), text.output)
    }

    func testAgreementCommandOnPostgres() throws {
        let f = try Self.fixture()
        let url = try PostgresTestServer.freshDatabase(self)
        let store = try PostgresReviewStore(url: PostgresURL(url))
        try store.setSessionInfo(datasetRoot: "/d", classes: f.classes)
        for d in Self.decisions(f) { try store.record(d) }
        try checkCommand(db: url, fixture: f)
    }

    private func checkCommand(db: String, fixture f: Fixture) throws {
        let result = try Fracview.run(["agreement", "--db", db, "--json", "--resamples", "200"])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertFalse(result.output.contains("fracview-test-only"), "never the password")
        let a = try JSONDecoder().decode(ReaderAgreement.self, from: result.stdout)
        check(a, against: f)
    }

    /// Issue #26 §8: a team's pairwise κ bootstraps run in a loop that allocates nothing (300 readers × 10 cases went
    /// from 40 s to 4.5 s on a 2-core Xeon; `fracview agreement`, measured, not asserted). The fast loop gives the
    /// same intervals as the general bootstrap over the same resamples, grouped or not, and selection gives the
    /// same percentiles as sorting.
    func testTheFastKappaBootstrapEqualsTheGeneralOne() {
        var rng = SplitMix64(seed: 42)
        for trial in 0..<20 {
            let n = 5 + trial * 3, k = 2 + trial % 5
            let a = (0..<n).map { _ in rng.index(below: k) }, b = (0..<n).map { i in i % 3 == 0 ? a[i] : rng.index(below: k) }
            let units = (0..<n).map { trial % 2 == 0 ? "c\($0)" : "g\($0 / 3)" }
            var totals = [Double](repeating: 0, count: 2 * k)
            let fast = ReaderAgreement.kappaBootstrap(a, b, units: units, classCount: k, resamples: 300, seed: 7, totals: &totals)
            let general = ReaderAgreement.bootstrap(units: units, resamples: 300, seed: 7) { idx in
                ReaderAgreement.cohenKappa(idx.map { a[$0] }, idx.map { b[$0] }, classCount: k)
            }
            XCTAssertEqual(fast?.low, general?.low, "trial \(trial)")
            XCTAssertEqual(fast?.high, general?.high, "trial \(trial)")
        }
        for n in [1, 2, 3, 10, 2000] {
            let values = (0..<n).map { _ in Double(rng.index(below: 50)) / 7 }   // ties included
            let sorted = values.sorted()
            for q in [0.0, 2.5, 50, 97.5, 100] {
                let pos = q / 100 * Double(n - 1)
                let lo = Int(pos.rounded(.down)), hi = min(lo + 1, n - 1)
                let want = sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - Double(lo))
                XCTAssertEqual(Bootstrap.percentiles(values, [q])[0], want, accuracy: 1e-12, "n \(n) q \(q)")
            }
        }
    }
}
