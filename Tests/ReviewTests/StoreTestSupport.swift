@testable import Engine
import Foundation
@testable import Store
import XCTest

/// A fresh folder under the system temp dir, removed when the test ends.
func makeStoreTempDir(_ test: XCTestCase, file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("fracview-store-\(getpid())-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    test.addTeardownBlock {
        chmod(dir, 0o755)
        try? FileManager.default.removeItem(atPath: dir)
    }
    return dir
}

/// A decision with sensible values; dates rounded to the millisecond as the store keeps them.
func sampleDecision(_ path: String = "test/images/a.jpg", split: String = "test", reviewer: String = "alice",
                    status: ReviewStatus = .accepted, truth: Int? = 2, predicted: Int? = 2,
                    reviewerLabel: Int? = nil, note: String = "", at seconds: Double = 1_764_000_000.125,
                    weightsID: String = "w123") -> ReviewDecision {
    var probabilities = [Float](repeating: 0.01, count: 10)
    if let predicted { probabilities[predicted] = 0.91 }
    return ReviewDecision(caseID: path, split: split, reviewer: reviewer, status: status, truth: truth,
                          predicted: predicted, probabilities: probabilities, reviewerLabel: reviewerLabel,
                          note: note, reviewedAt: Date(timeIntervalSince1970: seconds), weightsID: weightsID)
}

let sampleClasses = ["Comminuted", "Greenstick", "Healthy", "Linear", "Oblique Displaced", "Oblique", "Segmental",
                     "Spiral", "Transverse Displaced", "Transverse"]

/// Errors collected from other threads.
final class StoreTestErrors: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ text: String) { lock.lock(); items.append(text); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}

/// A flag set by one thread and read by another.
final class StoreTestFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
