import ArgumentParser
import Engine
import Foundation
import Store

/// `fracview store-bench`: N concurrent writers recording decisions into one store, for the load figures of
/// docs/store.md (scripts/store-load.sh runs the grid).
struct StoreBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store-bench",
        abstract: "Load-test a decision store: N writers record decisions for S seconds; decisions/s and commit latency.",
        discussion: """
            Each writer is an OS thread with its own connection (SQLite: its own pool on the file), deciding as \
            reviewer load-K on 1000 synthetic cases in turn, every decision one committed transaction as in the TUI. \
            It writes synthetic rows, so it refuses a store that holds anyone else's decisions.
            """)

    @Option(name: .long, help: ArgumentHelp("An empty store: a file or a postgres:// URL.", valueName: "FILE|URL"))
    var db: String

    @Option(name: .long, help: "Concurrent writers.")
    var writers = 2

    @Option(name: .long, help: "Seconds to run.")
    var seconds = 60.0

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard (1...256).contains(writers) else { throw ValidationError("--writers must be 1…256") }
        guard seconds > 0, seconds <= 3600 else { throw ValidationError("--seconds must be in (0, 3600]") }
    }

    func run() throws {
        let setup: DecisionStore
        do { setup = try StoreOpening.open(db) } catch { throw CommandFailure("\(error)") }
        let others = try setup.reviewers().filter { !$0.hasPrefix("load-") }
        guard others.isEmpty else {
            throw CommandFailure("\(setup.location) holds decisions of \(others.prefix(3).joined(separator: ", ")): store-bench needs an empty store")
        }
        let classes = ["Comminuted", "Greenstick", "Healthy", "Linear", "Oblique Displaced", "Oblique", "Segmental",
                       "Spiral", "Transverse Displaced", "Transverse"]
        try setup.setSessionInfo(datasetRoot: "/store-bench", classes: classes)
        let stores = try (0..<writers).map { _ in try StoreOpening.open(db) }
        let results = LatencyLog(writers: writers)
        let deadline = Date().addingTimeInterval(seconds)
        let start = DispatchTime.now().uptimeNanoseconds
        // One OS thread per writer (concurrentPerform would run only as many at once as there are cores).
        let done = DispatchGroup()
        for w in 0..<writers {
            done.enter()
            let thread = Thread {
                defer { done.leave() }
            var i = 0
            var probabilities = [Float](repeating: 0.05, count: classes.count)
            while Date() < deadline {
                probabilities[i % classes.count] = 0.55
                let d = ReviewDecision(caseID: "test/images/case\(i % 1000).jpg", split: "test", reviewer: "load-\(w)",
                                       status: i % 7 == 0 ? .flagged : .relabelled, truth: i % classes.count,
                                       predicted: (i + 1) % classes.count, probabilities: probabilities,
                                       reviewerLabel: i % 7 == 0 ? nil : (i + 2) % classes.count, note: i % 5 == 0 ? "load note \(i)" : "",
                                       reviewedAt: Date(), weightsID: "store-bench", readMode: .blind)
                probabilities[i % classes.count] = 0.05
                let t0 = DispatchTime.now().uptimeNanoseconds
                do {
                    try stores[w].record(d)
                    results.add(writer: w, ms: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                } catch {
                    results.fail(writer: w, "\(error)")
                }
                i += 1
            }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        done.wait()
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let latencies = results.all.sorted()
        // Nearest-rank percentile.
        func percentile(_ q: Double) -> Double {
            guard !latencies.isEmpty else { return .nan }
            let rank = Int((q / 100 * Double(latencies.count)).rounded(.up))
            return latencies[min(latencies.count - 1, max(0, rank - 1))]
        }
        let kind: String
        switch StoreLocation.parse(db) { case .sqlite: kind = "sqlite"; case .postgres: kind = "postgresql" }
        let rate = Double(latencies.count) / wall
        if json {
            Console.json(JSONOutput.line(StoreBenchLine(
                store: kind, writers: writers, seconds: (wall * 10).rounded() / 10, decisions: latencies.count,
                decisionsPerS: JSONOutput.finite((rate * 10).rounded() / 10), p50Ms: JSONOutput.finite(percentile(50)),
                p99Ms: JSONOutput.finite(percentile(99)), maxMs: latencies.last, errors: results.failures.count)))
        } else {
            Console.line("\(kind) · \(writers) writer\(writers == 1 ? "" : "s") · \(String(format: "%.1f", wall)) s: \(latencies.count) decisions, "
                         + "\(String(format: "%.0f", rate))/s, commit p50 \(String(format: "%.2f", percentile(50))) ms, "
                         + "p99 \(String(format: "%.2f", percentile(99))) ms, max \(String(format: "%.1f", latencies.last ?? .nan)) ms, "
                         + "\(results.failures.count) errors")
        }
        if let first = results.failures.first { Console.error("first error: \(first)") }
    }
}

/// `fracview store-bench --json`: one line.
struct StoreBenchLine: Encodable {
    let store: String, writers: Int, seconds: Double, decisions: Int
    let decisionsPerS: Double?, p50Ms: Double?, p99Ms: Double?, maxMs: Double?, errors: Int
    enum CodingKeys: String, CodingKey {
        case store, writers, seconds, decisions, errors
        case decisionsPerS = "decisions_per_s", p50Ms = "p50_ms", p99Ms = "p99_ms", maxMs = "max_ms"
    }
}

/// Commit latencies from many threads.
private final class LatencyLog: @unchecked Sendable {
    private let lock = NSLock()
    private var perWriter: [[Double]]
    private(set) var failures: [String] = []
    init(writers: Int) { perWriter = Array(repeating: [], count: writers) }
    func add(writer: Int, ms: Double) { lock.lock(); perWriter[writer].append(ms); lock.unlock() }
    func fail(writer: Int, _ message: String) { lock.lock(); failures.append(message); lock.unlock() }
    var all: [Double] { lock.lock(); defer { lock.unlock() }; return perWriter.flatMap { $0 } }
}
