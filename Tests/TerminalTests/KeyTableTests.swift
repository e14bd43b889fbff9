import Foundation
@testable import Terminal
import XCTest

/// The one key table: no key bound twice, every action bound, names round-trip, keys.yaml remapping and its
/// errors, and docs/keys.md generated from it.
final class KeyTableTests: XCTestCase {
    /// Every action of the key table has its one handler (a second would trap when the table is built).
    func testEveryActionHasAHandler() {
        XCTAssertEqual(Set(ActionHandlers.all.keys), Set(Action.allCases))
        XCTAssertEqual(ActionHandlers.all.count, Action.allCases.count)
    }

    func testEveryActionHasKeysAndNoKeyIsBoundTwice() throws {
        let table = KeyTable.standard
        XCTAssertEqual(Set(table.bindings.map(\.action)), Set(Action.allCases))
        var seen: [Key: Action] = [:]
        for b in table.bindings {
            XCTAssertFalse(b.keys.isEmpty, "\(b.action) has no key")
            for k in b.keys {
                XCTAssertNil(seen[k], "\(k.name) bound to \(seen[k]!.rawValue) and \(b.action.rawValue)")
                seen[k] = b.action
                XCTAssertEqual(table.action(for: k), b.action)
            }
        }
        XCTAssertEqual(table.action(for: .char("a")), .accept)
        XCTAssertEqual(table.action(for: .char("7")), .relabel)
        XCTAssertEqual(table.action(for: .shiftLeft), .panLeft)
        XCTAssertEqual(table.action(for: .char("h")), .flipHorizontal)
    }

    func testKeyNamesRoundTrip() {
        for b in KeyTable.standard.bindings {
            for k in b.keys { XCTAssertEqual(Key(name: k.name), k, k.name) }
        }
        XCTAssertEqual(Key(name: "Ctrl-L"), .char("\u{0C}"))
        XCTAssertEqual(Key(name: "Space"), .char(" "))
        XCTAssertNil(Key(name: "Hyper-X"))
        XCTAssertNil(Key(name: "ab"))
    }

    func testRemappingFromYAML() throws {
        let table = try KeyTable.standard.remapped(yaml: "accept: y\nnext: [Right, n]\nnote: N\n", source: "keys.yaml")
        XCTAssertEqual(table.action(for: .char("y")), .accept)
        XCTAssertNil(table.action(for: .char("a")), "the old key is free")
        XCTAssertEqual(table.action(for: .char("n")), .next)
        XCTAssertNil(table.action(for: .down), "a list replaces every key of the action")
        XCTAssertEqual(table.action(for: .char("N")), .note)
    }

    func testRemappingErrorsAreOneLine() {
        let cases: [(String, String)] = [
            ("acept: y\n", "unknown action 'acept'"),
            ("accept: Hyper-X\n", "unknown key 'Hyper-X'"),
            ("accept: f\n", "key f is bound to both"),
            ("relabel: x\n", "relabel is always the digits"),
            ("- a\n", "expected `action: key` lines"),
            ("accept: [\n", "not valid YAML"),
        ]
        for (yaml, expected) in cases {
            do {
                _ = try KeyTable.standard.remapped(yaml: yaml, source: "k.yaml")
                XCTFail("accepted \(yaml.debugDescription)")
            } catch {
                let text = "\(error)"
                XCTAssertTrue(text.contains(expected), "\(yaml.debugDescription): \(text)")
                XCTAssertTrue(text.hasPrefix("k.yaml: "), text)
                XCTAssertFalse(text.contains("\n"), text)
            }
        }
    }

    func testUserFileLocation() throws {
        XCTAssertEqual(KeyTable.userFile(env: ["FRACVIEW_KEYS": "/x/keys.yaml"]), "/x/keys.yaml")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fracview-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("fracview"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertNil(KeyTable.userFile(env: ["XDG_CONFIG_HOME": dir.path]))
        FileManager.default.createFile(atPath: dir.path + "/fracview/keys.yaml", contents: Data("accept: y\n".utf8))
        XCTAssertEqual(KeyTable.userFile(env: ["XDG_CONFIG_HOME": dir.path]), dir.path + "/fracview/keys.yaml")
        XCTAssertEqual(try KeyTable.loading(dir.path + "/fracview/keys.yaml").action(for: .char("y")), .accept)
    }

    /// docs/keys.md is generated from the table: regenerate with `fracview keys --markdown > docs/keys.md`.
    func testDocsKeysIsCurrent() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/keys.md").path
        let committed = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(committed, KeyTable.standard.markdown(),
                       "docs/keys.md is out of date: run `.build/release/fracview keys --markdown > docs/keys.md`")
    }
}
