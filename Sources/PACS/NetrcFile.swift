import Foundation

/// `~/.netrc` as curl and ftp read it: `machine HOST login USER password SECRET` entries (and a `default` entry),
/// tokens separated by white space, `macdef` bodies skipped up to the next empty line.
struct NetrcFile {
    struct Entry: Equatable { var login = "", password = "" }
    private(set) var machines: [String: Entry] = [:]
    private(set) var fallback: Entry?

    /// The file's entries, or nil when it cannot be read (absent, or over 1 MiB: a netrc is a few lines).
    static func read(path: String) -> NetrcFile? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              (attributes[.type] as? FileAttributeType) == .typeRegular,
              ((attributes[.size] as? NSNumber)?.intValue ?? 0) <= 1 << 20,
              let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return NetrcFile(text: text)
    }

    init(text: String) {
        var current: String?? = nil   // .some(nil): the default entry
        var lines = text.components(separatedBy: "\n")[...]
        var tokens: [String] = []
        while let line = lines.popFirst() {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            if words.first == "macdef" {
                // A macro's body runs to the first empty line; none of it is an entry.
                while let body = lines.popFirst(), !body.trimmingCharacters(in: .whitespaces).isEmpty {}
                continue
            }
            tokens += words
        }
        var i = 0
        func store(_ update: (inout Entry) -> Void) {
            guard let name = current else { return }
            if let host = name {
                var entry = machines[host] ?? Entry(); update(&entry); machines[host] = entry
            } else {
                var entry = fallback ?? Entry(); update(&entry); fallback = entry
            }
        }
        while i < tokens.count {
            let token = tokens[i]
            let value = i + 1 < tokens.count ? tokens[i + 1] : nil
            switch token {
            case "machine": current = .some(value); if let v = value, machines[v] == nil { machines[v] = Entry() }; i += 2
            case "default": current = .some(nil); if fallback == nil { fallback = Entry() }; i += 1
            case "login": if let v = value { store { $0.login = v } }; i += 2
            case "password": if let v = value { store { $0.password = v } }; i += 2
            case "account": i += 2
            default: i += 1
            }
        }
    }

    /// The host's entry, else the default one.
    func entry(for host: String) -> Entry? { machines[host] ?? fallback }
}
