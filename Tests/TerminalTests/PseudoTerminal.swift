import CPseudoTerminal
import CTerminal
import Foundation
import XCTest

/// Runs the real fracview binary on a pseudo-terminal, feeds keys, and keeps a screen model of its output.
final class PseudoTerminal {
    let pid: pid_t
    let master: Int32
    let screen: ScreenEmulator
    private(set) var raw: [UInt8] = []
    private(set) var exitCode: Int32?
    /// Answer DA1 like a sixel terminal (only when the app asks).
    var answerDA1WithSixel = false

    init(arguments: [String], cols: Int, rows: Int, cellWidth: Int = 10, cellHeight: Int = 20,
         environment: [String: String] = [:]) throws {
        let binary = try PseudoTerminal.binary()
        var env = ProcessInfo.processInfo.environment
        env["TERM"] = "xterm-256color"
        env["LANG"] = "C.UTF-8"
        env["LC_ALL"] = "C.UTF-8"
        env.removeValue(forKey: "TMUX")
        env.removeValue(forKey: "NO_COLOR")
        for (k, v) in environment { env[k] = v.isEmpty ? nil : v } // "" removes a variable
        let argv = [binary] + arguments
        var cArgs = argv.map { strdup($0) } + [nil]
        var cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
        var fd: Int32 = -1
        let p = cterminal_spawn_pty(binary, &cArgs, &cEnv, Int32(rows), Int32(cols),
                                    Int32(cols * cellWidth), Int32(rows * cellHeight), &fd)
        guard p > 0 else { throw XCTSkip("cannot open a pseudo-terminal") }
        pid = p; master = fd
        screen = ScreenEmulator(cols: cols, rows: rows, cellWidth: cellWidth, cellHeight: cellHeight)
    }

    deinit {
        if exitCode == nil { kill(pid, SIGKILL); var s: Int32 = 0; waitpid(pid, &s, 0) }
        close(master)
    }

    /// The binary built with the tests: beside the test bundle (any `--scratch-path`), else under the
    /// repository's .build (same configuration first).
    static func binary() throws -> String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("fracview").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        #if DEBUG
        let preferred = ["debug", "release"]
        #else
        let preferred = ["release", "debug"]
        #endif
        for config in preferred {
            let path = repoRoot.appendingPathComponent(".build/\(config)/fracview").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw MissingFromTheBuild("fracview binary not found beside the tests (\(beside)) nor under \(repoRoot.path)/.build/{release,debug}: run `swift build` (scripts/test.sh does)")
    }

    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Reads whatever the app wrote for up to `ms`.
    func pump(ms: Int32 = 50) {
        var buffer = [CChar](repeating: 0, count: 65536)
        var waited: Int32 = 0
        while true {
            let n = cterminal_read_timeout(master, &buffer, Int32(buffer.count), waited == 0 ? ms : 0)
            waited += 1
            if n <= 0 { break }
            let bytes = buffer[0..<Int(n)].map { UInt8(bitPattern: $0) }
            raw += bytes
            if answerDA1WithSixel, String(decoding: bytes, as: UTF8.self).contains("\u{1B}[c") {
                send("\u{1B}[?62;4;22c")
            }
            screen.feed(bytes)
        }
        reap()
    }

    private func reap() {
        guard exitCode == nil else { return }
        var status: Int32 = 0
        if cterminal_try_wait(pid, &status) == 1 { exitCode = cterminal_exit_code(status) }
    }

    /// Writes `text` in one write, as a terminal sends one key or one paste, and waits until the app has read
    /// it and the escape delay has passed. So each `send` reaches the app as its own burst, the way a person's
    /// key presses do (the app treats keys that arrive together as a paste; see TerminalInput).
    func send(_ text: String) { send(bytes: Array(text.utf8)) }

    /// `settle: false` returns as soon as the bytes are written.
    func send(bytes: [UInt8], settle: Bool = true) {
        _ = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
        guard settle else { return }
        let deadline = Date().addingTimeInterval(10)
        while cterminal_unread_input(master) > 0 && exitCode == nil && Date() < deadline { pump(ms: 5) }
        // Past the app's escape delay (25 ms), so that a lone ESC is not joined to what comes next.
        let settled = Date().addingTimeInterval(0.04)
        while Date() < settled { pump(ms: 10) }
    }

    /// Keys as terminals send them.
    enum Special: String {
        // fracview leaves the cursor-key mode alone, so arrows come as CSI (normal mode); a terminal left in
        // application mode sends SS3, which it reads too (see InputParserTests).
        case right = "\u{1B}[C", left = "\u{1B}[D", up = "\u{1B}[A", down = "\u{1B}OB"
        case home = "\u{1B}OH", end = "\u{1B}[F", pageUp = "\u{1B}[5~", pageDown = "\u{1B}[6~"
        case enter = "\r", escape = "\u{1B}"
    }
    func press(_ key: Special) { send(key.rawValue) }

    /// Waits until the screen text satisfies `predicate` (or times out with a failure showing the screen).
    @discardableResult
    func waitFor(_ what: String, timeout: Double = 15, file: StaticString = #filePath, line: UInt = #line,
                 _ predicate: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            pump()
            if predicate(screen.text) { return true }
            if exitCode != nil { break }
        }
        XCTFail("timed out waiting for \(what); exit=\(String(describing: exitCode)); screen:\n\(screen.text)", file: file, line: line)
        return false
    }

    func waitFor(text: String, timeout: Double = 15, file: StaticString = #filePath, line: UInt = #line) {
        waitFor("“\(text)”", timeout: timeout, file: file, line: line) { $0.contains(text) }
    }

    /// Waits for the process to exit; returns its exit code.
    func waitForExit(timeout: Double = 10) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while exitCode == nil && Date() < deadline { pump(ms: 50) }
        return exitCode
    }

    /// Simulates a terminal resize: the kernel sends SIGWINCH to the app.
    func resize(cols: Int, rows: Int, cellWidth: Int = 10, cellHeight: Int = 20) {
        _ = cterminal_set_winsize(master, Int32(rows), Int32(cols), Int32(cols * cellWidth), Int32(rows * cellHeight))
        kill(pid, SIGWINCH)
        screen.resize(cols: cols, rows: rows)
    }

    func killHard() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        exitCode = cterminal_exit_code(status)
    }
}

/// Something the build or the repository always provides is missing: thrown, so that the test fails with this
/// reason (a skip would hide it).
struct MissingFromTheBuild: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
