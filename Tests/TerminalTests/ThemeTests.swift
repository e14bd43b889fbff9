import Foundation
import Imaging
@testable import Terminal
import XCTest

final class ThemeTests: XCTestCase {
    private let themesDir = PseudoTerminal.repoRoot.appendingPathComponent("themes").path

    private func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fracview-themes-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    private func write(_ text: String, name: String = "custom") throws -> (dir: String, path: String) {
        let dir = try temporaryDirectory()
        let path = dir + "/\(name).yaml"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return (dir, path)
    }

    private func themeYAML(colormap: String = "viridis", replacing role: String? = nil, with line: String? = nil) -> String {
        var text = "colormap: \(colormap)\ncolors:\n"
        for r in ThemeRole.allCases {
            if r.rawValue == role { if let line { text += "  \(line)\n" }; continue }
            text += "  \(r.rawValue): \"#102030\"\n"
        }
        return text
    }

    func testShippedThemesLoadCompletely() throws {
        for name in ["dark", "light", "high-contrast", "colorblind"] {
            let theme = try Theme.load(path: "\(themesDir)/\(name).yaml")
            XCTAssertEqual(theme.name, name)
            XCTAssertEqual(theme.colors.count, ThemeRole.allCases.count, name)
            XCTAssertFalse(theme.monochrome)
        }
        XCTAssertEqual(try Theme.load(path: "\(themesDir)/colorblind.yaml").colormap, .viridis)
        XCTAssertEqual(try Theme.load(path: "\(themesDir)/high-contrast.yaml").colormap, .inferno)
        XCTAssertEqual(try Theme.load(path: "\(themesDir)/dark.yaml").colormap, .jet)
    }

    func testRolesThatWereNeverDrawnAreIgnoredInOlderFiles() throws {
        var text = themeYAML()
        for key in ["header", "status_text", "accepted", "unreviewed", "error"] { text += "  \(key): \"#ff0000\"\n" }
        let (_, path) = try write(text)
        let theme = try Theme.load(path: path)
        XCTAssertEqual(Set(theme.colors.keys), Set(ThemeRole.allCases))
        XCTAssertFalse(theme.colors.values.contains(ThemeColor(hex: "#ff0000")!))
    }

    func testBuiltInDarkEqualsTheShippedFile() throws {
        XCTAssertEqual(try Theme.load(path: "\(themesDir)/dark.yaml"), Theme.builtinDark)
    }

    func testTextIsReadableInEveryShippedTheme() throws {
        for name in ["dark", "light", "high-contrast", "colorblind"] {
            let t = try Theme.load(path: "\(themesDir)/\(name).yaml")
            let minimum = name == "high-contrast" ? 7.0 : 4.5   // WCAG AAA / AA for body text
            XCTAssertGreaterThanOrEqual(ThemeColor.contrast(t[.text], t[.background]), minimum, name)
            // The header and status bars draw text on status_background.
            XCTAssertGreaterThanOrEqual(ThemeColor.contrast(t[.text], t[.statusBackground]), minimum, name)
            for role in [ThemeRole.truth, .prediction, .agree, .disagree, .flagged, .relabelled, .accent] {
                XCTAssertGreaterThanOrEqual(ThemeColor.contrast(t[role], t[.background]), 3.0, "\(name) \(role)")
            }
            XCTAssertNotEqual(t[.agree], t[.disagree], name)
            XCTAssertNotEqual(t[.bar], t[.barBackground], name)
        }
    }

    /// Issue #26 §3, §4: a 450-byte alias bomb grew to 1.7 GB, a 1.5 GB theme exhausted memory; both are refused
    /// with one line, before parsing.
    func testAliasBombAndOversizedThemesAreRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("themes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bomb = dir.appendingPathComponent("bomb.yaml").path
        try "colormap: &a [jet, jet, jet]\ncolors: {accent: *a}\n".write(toFile: bomb, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Theme.load(path: bomb)) { XCTAssertTrue("\($0)".contains("anchors are not accepted"), "\($0)") }
        let big = dir.appendingPathComponent("big.yaml").path
        try ("colormap: jet\n" + String(repeating: "# padding\n", count: 8000)).write(toFile: big, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Theme.load(path: big)) { XCTAssertTrue("\($0)".contains("64 KiB limit"), "\($0)") }
    }

    func testColourParsing() {
        XCTAssertEqual(ThemeColor(hex: "#0A1b2C"), ThemeColor(r: 10, g: 27, b: 44))
        XCTAssertEqual(ThemeColor(hex: "#0a1b2c")?.hex, "#0a1b2c")
        for bad in ["0a1b2c", "#0a1b2", "#0a1b2c0", "#0g1b2c", "", "#"] { XCTAssertNil(ThemeColor(hex: bad), bad) }
    }

    func testMalformedFilesNameFileAndKey() throws {
        let cases: [(String, [String])] = [
            (themeYAML(replacing: "accent", with: "accent: #ff0000"), ["colors.accent", "quote it"]),
            (themeYAML(replacing: "accent", with: "accent: \"red\""), ["colors.accent", "'red'", "#rrggbb"]),
            (themeYAML(replacing: "truth", with: nil), ["missing key colors.truth"]),
            (themeYAML(replacing: "truth", with: "trut: \"#ffffff\""), ["colors.trut", "unknown role"]),
            (themeYAML(colormap: "rainbow"), ["colormap", "'rainbow'", "jet, viridis, inferno"]),
            ("colors:\n  text: \"#ffffff\"\n", ["missing key colormap"]),
            ("colormap: jet\n", ["missing key colors"]),
            ("colormap: jet\ncolors: [1, 2]\n", ["colors: expected a mapping"]),
            ("colormap: jet\ncolours: {}\n", ["unknown key 'colours'"]),
            ("- just\n- a list\n", ["expected a mapping"]),
            ("colormap: [jet\ncolors: {\n", ["not valid YAML"]),
        ]
        for (text, parts) in cases {
            let (_, path) = try write(text)
            XCTAssertThrowsError(try Theme.load(path: path)) { error in
                let message = "\(error)"
                XCTAssertTrue(message.hasPrefix(path + ": "), message)
                XCTAssertFalse(message.contains("\n"), message)
                for part in parts { XCTAssertTrue(message.contains(part), "'\(message)' lacks '\(part)'") }
            }
        }
    }

    func testResolveFindsNamesPathsAndFallsBack() throws {
        let (dir, path) = try write(themeYAML(), name: "mine")
        let theme = try Theme.resolve(name: "mine", env: [:], searchDirectories: [dir, themesDir])
        XCTAssertEqual(theme.name, "mine")
        XCTAssertEqual(theme.colormap, .viridis)
        XCTAssertEqual(theme[.accent], ThemeColor(hex: "#102030"))
        XCTAssertEqual(try Theme.resolve(name: path, env: [:], searchDirectories: []).name, "mine")
        // First directory wins.
        let (shadow, _) = try write(themeYAML(colormap: "gray"), name: "light")
        XCTAssertEqual(try Theme.resolve(name: "light", env: [:], searchDirectories: [shadow, themesDir]).colormap, .gray)
        XCTAssertEqual(try Theme.resolve(name: "light", env: [:], searchDirectories: [themesDir]).colormap, .jet)
        // No themes folder at all: dark is built in, others are a clear error.
        XCTAssertEqual(try Theme.resolve(name: nil, env: [:], searchDirectories: ["/nonexistent"]), Theme.builtinDark)
        XCTAssertThrowsError(try Theme.resolve(name: "light", env: [:], searchDirectories: ["/nonexistent"])) { error in
            XCTAssertEqual("\(error)", "unknown theme 'light' (available: dark)")
        }
        // $FRACVIEW_THEME picks the default; --theme wins over it.
        XCTAssertEqual(try Theme.resolve(name: nil, env: ["FRACVIEW_THEME": "light"], searchDirectories: [themesDir]).name, "light")
        XCTAssertEqual(try Theme.resolve(name: "dark", env: ["FRACVIEW_THEME": "light"], searchDirectories: [themesDir]).name, "dark")
    }

    func testNoColorMakesTheThemeMonochrome() throws {
        XCTAssertTrue(try Theme.resolve(name: "light", env: ["NO_COLOR": "1"], searchDirectories: [themesDir]).monochrome)
        XCTAssertFalse(try Theme.resolve(name: "light", env: ["NO_COLOR": ""], searchDirectories: [themesDir]).monochrome,
                       "no-color.org: an empty NO_COLOR does not count")
        XCTAssertFalse(try Theme.resolve(name: "light", env: [:], searchDirectories: [themesDir]).monochrome)
    }

    func testAvailableNamesAndCycling() throws {
        let (extra, _) = try write(themeYAML(), name: "amber")
        let dirs = [themesDir, extra]
        XCTAssertEqual(Theme.availableNames(searchDirectories: dirs), ["dark", "light", "high-contrast", "colorblind", "amber"])
        XCTAssertEqual(Theme.next(after: "dark", searchDirectories: dirs), "light")
        XCTAssertEqual(Theme.next(after: "amber", searchDirectories: dirs), "dark")
        XCTAssertEqual(Theme.next(after: "gone", searchDirectories: dirs), "dark")
        XCTAssertEqual(Theme.availableNames(searchDirectories: []), ["dark"])
    }

    func testSearchDirectoriesOrder() {
        let dirs = Theme.searchDirectories(env: ["FRACVIEW_THEMES": "/custom", "HOME": "/home/r"], currentDirectory: "/work",
                                           executablePath: "/opt/fracview/.build/release/fracview")
        XCTAssertEqual(Array(dirs.prefix(6)), ["/custom", "/home/r/.config/fracview/themes", "/work/themes",
                                               "/opt/fracview/.build/release/themes", "/opt/fracview/.build/themes",
                                               "/opt/fracview/themes"])
        XCTAssertEqual(dirs.last, "/themes")
        XCTAssertEqual(Theme.searchDirectories(env: ["XDG_CONFIG_HOME": "/xdg", "HOME": "/h"], currentDirectory: "/w",
                                               executablePath: nil), ["/xdg/fracview/themes", "/w/themes"])
    }
}
