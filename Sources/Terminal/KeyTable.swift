import Basics
import Datasets
import Foundation
import Imaging
import Model
import Yams

/// What a key does on the review screen.
public enum Action: String, CaseIterable, Sendable {
    case next, previous, forward10 = "forward-10", back10 = "back-10", first, last
    case accept, flag, relabel, classMenu = "class-menu", undo, note, autoAdvance = "auto-advance"
    case view, camMethod = "cam-method", invert, boxes, windowNarrow = "window-narrow", windowWiden = "window-widen"
    case levelDown = "level-down", levelUp = "level-up", step, preset, zoomIn = "zoom-in", zoomOut = "zoom-out", fit
    case panLeft = "pan-left", panRight = "pan-right", panUp = "pan-up", panDown = "pan-down"
    case flipHorizontal = "flip-horizontal", flipVertical = "flip-vertical", rotateRight = "rotate-right"
    case rotateLeft = "rotate-left", resetView = "reset-view"
    case filter, clearFilter = "clear-filter", matrix, matrixLabels = "matrix-labels", matrixSeen = "matrix-seen"
    case export, exportAll = "export-all", sendFindings = "send-to-pacs", theme, help, repaint, quit
}

/// One row of the key table: the keys, what they do, and the words for the help overlay and the docs.
public struct KeyBinding: Equatable, Sendable {
    public var action: Action
    public var keys: [Key]
    public var help: String
    /// Help overlay section.
    public var group: String
    /// Short word for the status-bar hints (nil: not hinted).
    public var hint: String?
}

/// The one key table (htop and lazygit keep theirs the same way): the dispatcher, the help overlay, the status
/// hints and docs/keys.md all come from it, and `keys.yaml` remaps it.
public struct KeyTable: Equatable, Sendable {
    public private(set) var bindings: [KeyBinding]
    private var byKey: [Key: Action]

    public init(bindings: [KeyBinding]) throws {
        self.bindings = bindings
        byKey = [:]
        for b in bindings {
            for k in b.keys {
                if let other = byKey[k], other != b.action {
                    throw KeyTableError("key \(k.name) is bound to both \(other.rawValue) and \(b.action.rawValue)")
                }
                byKey[k] = b.action
            }
        }
    }

    public func action(for key: Key) -> Action? { byKey[key] }

    public func keys(for action: Action) -> [Key] { bindings.first { $0.action == action }?.keys ?? [] }

    /// The keys of an action as the help shows them ("a", "← →", "0–9").
    public func label(_ action: Action) -> String {
        if action == .relabel { return "0–9" }
        return keys(for: action).map(\.symbol).joined(separator: " ")
    }

    public static let groups = ["Move", "Decide", "View", "Lists"]

    public static let standard: KeyTable = {
        func b(_ action: Action, _ keys: [Key], _ group: String, _ help: String, hint: String? = nil) -> KeyBinding {
            KeyBinding(action: action, keys: keys, help: help, group: group, hint: hint)
        }
        let c = { (s: Character) in Key.char(s) }
        // swiftlint:disable:next force_try
        return try! KeyTable(bindings: [
            b(.next, [.right, .down, c("j")], "Move", "next case"),
            b(.previous, [.left, .up, c("k")], "Move", "previous case"),
            b(.forward10, [.pageDown], "Move", "forward 10 cases"),
            b(.back10, [.pageUp], "Move", "back 10 cases"),
            b(.first, [.home], "Move", "first case"),
            b(.last, [.end], "Move", "last case"),
            b(.accept, [c("a")], "Decide", "accept: the dataset label is right", hint: "accept"),
            b(.flag, [c("f")], "Decide", "flag for relabelling", hint: "flag"),
            b(.relabel, (0...9).map { c(Character(String($0))) }, "Decide",
              "relabel to that class (the dataset's own label is an accept)", hint: "relabel"),
            b(.classMenu, [c("c")], "Decide", "class menu, the model's first"),
            b(.undo, [c("u")], "Decide", "undo your last decision", hint: "undo"),
            b(.note, [c("n")], "Decide", "note (flags the case if undecided)"),
            b(.autoAdvance, [c("A")], "Decide", "auto-advance on/off"),
            b(.view, [c("g")], "View", "X-ray → CAM → attention → side by side", hint: "view"),
            b(.camMethod, [c("M")], "View", "CAM method: " + CAMMethod.all.map(\.title).joined(separator: " → ")),
            b(.invert, [c("i")], "View", "invert"),
            b(.boxes, [c("b")], "View", "boxes: both, none, label, model's"),
            b(.windowNarrow, [c("w")], "View", "narrow the window (more contrast)"),
            b(.windowWiden, [c("W")], "View", "widen the window"),
            b(.levelDown, [c("[")], "View", "lower the level"),
            b(.levelUp, [c("]")], "View", "raise the level"),
            b(.step, [c("s")], "View", "window/level step: fine, medium, coarse"),
            b(.preset, [c("p")], "View", "window presets: full, auto, bone, soft tissue"),
            b(.zoomIn, [c("+")], "View", "zoom in"),
            b(.zoomOut, [c("-")], "View", "zoom out"),
            b(.fit, [c("=")], "View", "fit the image"),
            b(.panLeft, [.shiftLeft], "View", "pan left (when zoomed)"),
            b(.panRight, [.shiftRight], "View", "pan right"),
            b(.panUp, [.shiftUp], "View", "pan up"),
            b(.panDown, [.shiftDown], "View", "pan down"),
            b(.flipHorizontal, [c("h")], "View", "flip horizontally"),
            b(.flipVertical, [c("v")], "View", "flip vertically"),
            b(.rotateRight, [c("r")], "View", "rotate 90° clockwise"),
            b(.rotateLeft, [c("l")], "View", "rotate 90° anticlockwise"),
            b(.resetView, [c(" ")], "View", "reset window, zoom, pan and orientation"),
            b(.filter, [c("/")], "Lists", "filter the cases", hint: "filter"),
            b(.clearFilter, [.escape], "Lists", "clear the filter"),
            b(.matrix, [c("m")], "Lists", "matrix: arrows move, ⏎ filters to the cell", hint: "matrix"),
            b(.matrixLabels, [c("L")], "Lists", "matrix rows: dataset / reviewed labels"),
            b(.matrixSeen, [c("S")], "Lists", "matrix: held-out only / seen cases too"),
            b(.export, [c("e")], "Lists", "export this split's reviewed cases (CSV)", hint: "export"),
            b(.exportAll, [c("E")], "Lists", "export every split's reviewed cases"),
            b(.sendFindings, [c("P")], "Lists", "PACS review: send this case's findings to the PACS (SR, and the window on screen)"),
            b(.theme, [c("t")], "Lists", "next theme"),
            b(.help, [c("?")], "Lists", "this help", hint: "help"),
            b(.repaint, [c("\u{0C}")], "Lists", "repaint the screen"),
            b(.quit, [c("q"), c("\u{03}")], "Lists", "quit (everything is saved already)", hint: "quit"),
        ])
    }()

    // MARK: remapping

    /// Where the user's remapping lives: $FRACVIEW_KEYS, else $XDG_CONFIG_HOME/fracview/keys.yaml, else
    /// ~/.config/fracview/keys.yaml. Nil when there is none.
    public static func userFile(env: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let explicit = env["FRACVIEW_KEYS"], !explicit.isEmpty { return explicit }
        let config = env["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (env["HOME"].map { $0 + "/.config" } ?? "")
        let path = config + "/fracview/keys.yaml"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// The standard table with `keys.yaml` applied: each entry `action: key` or `action: [key, key]` replaces that
    /// action's keys. An unknown action or key name, or a key left bound to two actions, is a one-line error.
    public static func loading(_ path: String?) throws -> KeyTable {
        guard let path else { return standard }
        guard let data = DirectoryListing.readFile(path, maxBytes: 1 << 16) else {
            throw KeyTableError("\(path): cannot read the key file")
        }
        return try standard.remapped(yaml: String(decoding: data, as: UTF8.self), source: path)
    }

    public func remapped(yaml text: String, source: String) throws -> KeyTable {
        let node: Node?
        do { node = try ConfigYAML.compose(text) } catch let refused as ConfigYAML.Refused {
            throw KeyTableError("\(source): \(refused)")
        } catch { throw KeyTableError("\(source): not valid YAML") }
        guard let node else { return self }
        guard let mapping = node.mapping else { throw KeyTableError("\(source): expected `action: key` lines") }
        var bindings = self.bindings
        for (keyNode, valueNode) in mapping {
            let name = keyNode.string ?? "?"
            guard let action = Action(rawValue: name) else {
                throw KeyTableError("\(source): unknown action '\(name)' (actions: \(Action.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard action != .relabel else { throw KeyTableError("\(source): relabel is always the digits 0–9") }
            let names = valueNode.sequence.map { $0.compactMap(\.string) } ?? [valueNode.string ?? ""]
            var keys: [Key] = []
            for n in names {
                guard let key = Key(name: n) else { throw KeyTableError("\(source): \(action.rawValue): unknown key '\(n)'") }
                keys.append(key)
            }
            guard !keys.isEmpty else { throw KeyTableError("\(source): \(action.rawValue): no key given") }
            if let i = bindings.firstIndex(where: { $0.action == action }) { bindings[i].keys = keys }
        }
        do { return try KeyTable(bindings: bindings) } catch let e as KeyTableError { throw KeyTableError("\(source): \(e.message)") }
    }

    // MARK: docs

    /// docs/keys.md, generated from the table (`fracview keys --markdown`); a test keeps the committed file current.
    public func markdown() -> String {
        var out = "# Keys of `fracview review`\n\n"
        out += "Generated from the key table (`Sources/Terminal/KeyTable.swift`) by `fracview keys --markdown`; "
        out += "do not edit by hand.\n\n"
        out += "Remap keys in `~/.config/fracview/keys.yaml` (or the file `$FRACVIEW_KEYS` names), one `action: key` "
        out += "or `action: [key, key]` per line, e.g. `accept: y`. Key names: a character, `Left` `Right` `Up` `Down`, "
        out += "`S-Left` (Shift) …, `Home` `End` `PgUp` `PgDn` `Enter` `Esc` `Tab` `Space` `Backspace` `Delete`, "
        out += "`Ctrl-L`. An unknown action or key, or a key bound twice, stops fracview with a one-line error.\n\n"
        out += "Decisions (accept, flag, relabel, undo) act only on a key that arrives alone: keys that come together, "
        out += "as in a paste, never decide.\n"
        for group in Self.groups {
            out += "\n## \(group)\n\n| key | action | what it does |\n|---|---|---|\n"
            for b in bindings where b.group == group {
                let keys = b.action == .relabel ? "`0`–`9`" : b.keys.map { "`\($0.name)`" }.joined(separator: " ")
                out += "| \(keys) | \(b.action.rawValue) | \(b.help) |\n"
            }
        }
        out += "\n## Inside panels\n\n| panel | keys |\n|---|---|\n"
        out += "| note editor | text, `←` `→` `Home` `End` `Backspace` `Delete`; `Enter` saves, `Esc` cancels; a paste is text |\n"
        out += "| class menu | `↑` `↓` `j` `k` move, `Enter` or a digit picks, `Esc` closes |\n"
        out += "| filter menu | `↑` `↓` `j` `k` `Home` `End` move, `Enter` applies, `Esc` closes |\n"
        out += "| matrix (`m`) | arrows or `h` `j` `k` `l` move, `Enter` filters to the cell, `L` `S` as above, `Esc` leaves |\n"
        out += "| help | any key closes |\n"
        return out
    }
}

public struct KeyTableError: OneLineError, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

extension Key {
    /// The name used in keys.yaml and docs/keys.md.
    public var name: String {
        switch self {
        case .left: return "Left"
        case .right: return "Right"
        case .up: return "Up"
        case .down: return "Down"
        case .shiftLeft: return "S-Left"
        case .shiftRight: return "S-Right"
        case .shiftUp: return "S-Up"
        case .shiftDown: return "S-Down"
        case .home: return "Home"
        case .end: return "End"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .enter: return "Enter"
        case .escape: return "Esc"
        case .backspace: return "Backspace"
        case .delete: return "Delete"
        case .tab: return "Tab"
        case .resize: return "Resize"
        case .char(" "): return "Space"
        case .char(let c):
            if let v = c.asciiValue, v < 0x20 { return "Ctrl-" + String(UnicodeScalar(v + 0x40)) }
            return String(c)
        case .other(let code): return "key\(code)"
        }
    }

    /// As the help overlay shows it.
    public var symbol: String {
        switch self {
        case .left: return "←"
        case .right: return "→"
        case .up: return "↑"
        case .down: return "↓"
        case .shiftLeft: return "⇧←"
        case .shiftRight: return "⇧→"
        case .shiftUp: return "⇧↑"
        case .shiftDown: return "⇧↓"
        default: return name
        }
    }

    public init?(name: String) {
        let named: [String: Key] = ["Left": .left, "Right": .right, "Up": .up, "Down": .down, "S-Left": .shiftLeft,
                                    "S-Right": .shiftRight, "S-Up": .shiftUp, "S-Down": .shiftDown, "Home": .home,
                                    "End": .end, "PgUp": .pageUp, "PgDn": .pageDown, "Enter": .enter, "Esc": .escape,
                                    "Backspace": .backspace, "Delete": .delete, "Tab": .tab, "Space": .char(" ")]
        if let k = named[name] { self = k; return }
        if name.hasPrefix("Ctrl-"), name.count == 6, let l = name.last?.uppercased().unicodeScalars.first,
           (0x40...0x5F).contains(l.value) {
            self = .char(Character(UnicodeScalar(l.value - 0x40)!)); return
        }
        guard name.count == 1, let c = name.first, let v = c.unicodeScalars.first?.value, v > 0x20, v != 0x7F else { return nil }
        self = .char(c)
    }
}
