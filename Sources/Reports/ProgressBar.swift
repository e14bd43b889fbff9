import Audit
import Basics
import Foundation

/// A one-line progress bar on stderr, redrawn in place when stderr is a terminal, else printed at 25 % steps.
public final class ProgressBar: @unchecked Sendable {
    private let lock = NSLock()
    private var lastDrawn = -1
    private var lastStage = ""
    private let interactive = isatty(2) != 0
    private let width = 30

    public init() {}

    public func update(_ stage: String, _ done: Int, _ total: Int) {
        lock.lock(); defer { lock.unlock() }
        guard total > 0 else { return }
        let percent = done * 100 / total
        let step = interactive ? percent : percent / 25 * 25
        if stage == lastStage && step == lastDrawn && done != total { return }
        if stage != lastStage && !lastStage.isEmpty && interactive { FileHandle.standardError.write(Data("\n".utf8)) }
        lastStage = stage; lastDrawn = step
        FileHandle.standardError.write(Data(Self.text(stage, done, total, width: width, interactive: interactive).utf8))
    }

    /// What one update writes: on a terminal the line redrawn in place (through `Escape`), else a line of its own.
    static func text(_ stage: String, _ done: Int, _ total: Int, width: Int, interactive: Bool) -> String {
        let filled = min(max(done * width / total, 0), width)
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let line = "\(stage.padding(toLength: 10, withPad: " ", startingAt: 0)) \(bar) \(done)/\(total)"
        return interactive ? Escape.rewriteLine + line : line + "\n"
    }

    /// Ends the bar's line.
    public func finish() {
        lock.lock(); defer { lock.unlock() }
        if interactive && !lastStage.isEmpty { FileHandle.standardError.write(Data("\n".utf8)) }
        lastStage = ""; lastDrawn = -1
    }

    public var handler: ProgressHandler { { [self] stage, done, total in update(stage, done, total) } }
}
