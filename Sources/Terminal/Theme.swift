import Basics
import Foundation
import Imaging
import Datasets
import Model
import Yams

/// The UI roles a theme colours; the raw value is the key under `colors:` in a theme file.
public enum ThemeRole: String, CaseIterable, Sendable {
    case background, text, dim, accent, border
    case statusBackground = "status_background"
    /// The dataset label and the model's prediction (bars, header).
    case truth, prediction
    /// The agree/disagree marker.
    case agree, disagree
    /// Review states (an accepted case shows in `agree`'s colour, an unreviewed one in `dim`).
    case flagged, relabelled
    /// Confidence bars.
    case bar, barBackground = "bar_background"
    /// Confusion-matrix cells: correct, wrong, the critical error pairs, and the cursor.
    case matrixDiagonal = "matrix_diagonal", matrixOffDiagonal = "matrix_off_diagonal"
    case matrixCritical = "matrix_critical", matrixCursor = "matrix_cursor"
    /// Highlighted list rows.
    case selection
    /// The localiser's box over the X-ray (drawn dashed; the label boxes keep their class colours).
    case modelBox = "model_box"

    /// Roles added after theme files were first written: a file without them takes the built-in dark theme's colour
    /// rather than being refused.
    static let optionalRoles: Set<ThemeRole> = [.modelBox]

    /// Keys of roles that were never drawn (header, status_text, accepted, unreviewed, error): a theme file written
    /// for an older fracview may still hold them, so they are read and ignored rather than refused.
    static let retiredKeys: Set<String> = ["header", "status_text", "accepted", "unreviewed", "error"]
}

/// Why a theme can't be used; one line naming the file and key.
public struct ThemeError: OneLineError, LocalizedError, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var errorDescription: String? { description }
}

/// Colours for every UI role plus the colormap of the CAM overlay, loaded from `themes/<name>.yaml`.
///
/// File format:
/// ```yaml
/// name: dark            # optional, defaults to the file name
/// colormap: jet         # jet | viridis | inferno | gray
/// colors:               # every ThemeRole key, each a quoted "#rrggbb" (an unquoted # starts a YAML comment)
///   background: "#0f1419"
///   ...
/// ```
public struct Theme: Sendable, Equatable {
    public var name: String
    public var colormap: Colormap
    public var colors: [ThemeRole: ThemeColor]
    /// NO_COLOR is set: the UI draws with attributes only (bold, reverse, underline), no colours. The X-ray and its
    /// heat overlay are content, not decoration, and keep their colours.
    public var monochrome: Bool

    public init(name: String, colormap: Colormap, colors: [ThemeRole: ThemeColor], monochrome: Bool = false) {
        self.name = name; self.colormap = colormap; self.colors = colors; self.monochrome = monochrome
    }

    public subscript(role: ThemeRole) -> ThemeColor {
        colors[role] ?? Theme.builtinDark.colors[role] ?? ThemeColor(r: 255, g: 255, b: 255)
    }

    public static let defaultName = "dark"

    /// The dark theme compiled in, so the app runs with no themes folder. Kept equal to themes/dark.yaml by a test.
    public static let builtinDark = Theme(name: "dark", colormap: .jet, colors: [
        .background: "#0f1419", .text: "#e6e1cf", .dim: "#707a8c", .accent: "#39bae6", .border: "#2d3640",
        .statusBackground: "#1c2430",
        .truth: "#aad94c", .prediction: "#59c2ff", .agree: "#aad94c", .disagree: "#f07178",
        .flagged: "#ffb454", .relabelled: "#d2a6ff",
        .bar: "#59c2ff", .barBackground: "#1f2733",
        .matrixDiagonal: "#2f5d3a", .matrixOffDiagonal: "#5c2f33", .matrixCritical: "#b3262e",
        .matrixCursor: "#e6b450", .selection: "#273747", .modelBox: "#00e5ff",
    ].mapValues { ThemeColor(hex: $0)! })

    // MARK: Loading

    /// The largest theme file read.
    public static let maxFileBytes = 1 << 16

    /// Parses a theme file. Throws a one-line `ThemeError` naming the file and the bad key.
    public static func load(path: String) throws -> Theme {
        // Capped like keys.yaml: a theme is a few hundred bytes (a 1.5 GB one once exhausted memory).
        if let size = DirectoryListing.fileSize(path), size > maxFileBytes {
            throw ThemeError("\(path): \(size) bytes, over the \(maxFileBytes >> 10) KiB limit of a theme file")
        }
        guard let data = DirectoryListing.readFile(path, maxBytes: maxFileBytes) else {
            throw ThemeError("\(path): cannot read the theme file")
        }
        let text = String(decoding: data, as: UTF8.self)
        let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return try parse(yaml: text, file: path, defaultName: stem)
    }

    /// Parses theme YAML; `file` names the source in errors.
    public static func parse(yaml text: String, file: String, defaultName: String) throws -> Theme {
        let loaded: Any?
        do { loaded = try ConfigYAML.load(text) } catch let refused as ConfigYAML.Refused {
            throw ThemeError("\(file): \(refused)")
        } catch {
            let first = String(describing: error).split(whereSeparator: \.isNewline).first.map(String.init) ?? "syntax error"
            throw ThemeError("\(file): not valid YAML (\(first))")
        }
        guard let top = loaded as? [String: Any] else { throw ThemeError("\(file): expected a mapping with colormap and colors") }
        for key in top.keys where !["name", "colormap", "colors", "description"].contains(key) {
            throw ThemeError("\(file): unknown key '\(key)' (expected name, description, colormap, colors)")
        }
        var name = defaultName
        if let value = top["name"] {
            guard let string = value as? String, !string.isEmpty else { throw ThemeError("\(file): name: expected text") }
            name = string
        }
        guard let mapText = top["colormap"] else { throw ThemeError("\(file): missing key colormap") }
        let choices = Colormap.allCases.map(\.rawValue).joined(separator: ", ")
        guard let mapName = mapText as? String, let colormap = Colormap(rawValue: mapName) else {
            throw ThemeError("\(file): colormap: '\(mapText)' is not one of \(choices)")
        }
        guard let colorsValue = top["colors"] else { throw ThemeError("\(file): missing key colors") }
        guard let table = colorsValue as? [String: Any] else { throw ThemeError("\(file): colors: expected a mapping of role: \"#rrggbb\"") }
        var colors: [ThemeRole: ThemeColor] = [:]
        for key in table.keys.sorted() where !ThemeRole.retiredKeys.contains(key) {
            guard let role = ThemeRole(rawValue: key) else {
                throw ThemeError("\(file): colors.\(key): unknown role (expected one of \(ThemeRole.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let hex = table[key] as? String, let color = ThemeColor(hex: hex) else {
                let shown = table[key].map { "\($0)" } ?? "nothing"
                let hint = (table[key] as? String) == nil ? " (quote it: an unquoted # starts a YAML comment)" : ""
                throw ThemeError("\(file): colors.\(key): '\(shown)' is not a \"#rrggbb\" colour\(hint)")
            }
            colors[role] = color
        }
        if let missing = ThemeRole.allCases.first(where: { colors[$0] == nil && !ThemeRole.optionalRoles.contains($0) }) {
            throw ThemeError("\(file): missing key colors.\(missing.rawValue)")
        }
        return Theme(name: name, colormap: colormap, colors: colors)
    }

    // MARK: Finding

    /// Where theme files are looked for, first match wins: $FRACVIEW_THEMES, the user's
    /// ($XDG_CONFIG_HOME or ~/.config)/fracview/themes, ./themes, then themes/ beside the executable and each folder
    /// above it (so a checkout's themes/ is found from .build/release/fracview).
    public static func searchDirectories(env: [String: String] = ProcessInfo.processInfo.environment,
                                         currentDirectory: String = FileManager.default.currentDirectoryPath,
                                         executablePath: String? = Bundle.main.executablePath) -> [String] {
        var dirs: [String] = []
        if let custom = env["FRACVIEW_THEMES"], !custom.isEmpty { dirs.append(custom) }
        if let config = env["XDG_CONFIG_HOME"], !config.isEmpty {
            dirs.append(config + "/fracview/themes")
        } else if let home = env["HOME"], !home.isEmpty {
            dirs.append(home + "/.config/fracview/themes")
        }
        dirs += ResourceFolders.candidates(currentDirectory: currentDirectory, executablePath: executablePath)
            .map { ($0 as NSString).appendingPathComponent("themes") }
        var seen = Set<String>()
        return dirs.filter { seen.insert($0).inserted }
    }

    /// The theme names available, for `t` to cycle: dark (always, built in), then the shipped ones, then others A–Z.
    public static func availableNames(searchDirectories dirs: [String] = searchDirectories()) -> [String] {
        var names = Set([defaultName])
        for dir in dirs {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            for file in files where file.hasSuffix(".yaml") || file.hasSuffix(".yml") {
                names.insert(URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent)
            }
        }
        let shipped = ["dark", "light", "high-contrast", "colorblind"]
        return shipped.filter(names.contains) + names.subtracting(shipped).sorted()
    }

    /// The theme after `name` in `availableNames`, wrapping around.
    public static func next(after name: String, searchDirectories dirs: [String] = searchDirectories()) -> String {
        let names = availableNames(searchDirectories: dirs)
        guard let i = names.firstIndex(of: name) else { return names.first ?? defaultName }
        return names[(i + 1) % names.count]
    }

    /// The theme to use: `name` (a theme name or a path to a .yaml file), else $FRACVIEW_THEME, else dark.
    /// "dark" falls back to the built-in copy when no file is found. NO_COLOR (set and not empty, see no-color.org)
    /// makes the result `monochrome`. Throws a one-line error for an unknown name or a malformed file.
    public static func resolve(name: String?, env: [String: String] = ProcessInfo.processInfo.environment) throws -> Theme {
        try resolve(name: name, env: env, searchDirectories: searchDirectories(env: env))
    }

    public static func resolve(name: String?, env: [String: String], searchDirectories dirs: [String]) throws -> Theme {
        let wanted = name ?? env["FRACVIEW_THEME"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultName
        var theme: Theme
        if wanted.hasSuffix(".yaml") || wanted.hasSuffix(".yml") || wanted.contains("/") {
            theme = try load(path: wanted)
        } else if let file = find(wanted, in: dirs) {
            theme = try load(path: file)
        } else if wanted == defaultName {
            theme = builtinDark
        } else {
            throw ThemeError("unknown theme '\(wanted)' (available: \(availableNames(searchDirectories: dirs).joined(separator: ", ")))")
        }
        if let noColor = env["NO_COLOR"], !noColor.isEmpty { theme.monochrome = true }
        return theme
    }

    private static func find(_ name: String, in dirs: [String]) -> String? {
        for dir in dirs {
            for ext in ["yaml", "yml"] {
                let path = URL(fileURLWithPath: dir).appendingPathComponent("\(name).\(ext)").path
                if FileManager.default.fileExists(atPath: path) { return path }
            }
        }
        return nil
    }
}
