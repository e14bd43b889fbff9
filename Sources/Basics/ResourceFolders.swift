import Foundation

/// Where fracview looks for what ships beside it (weights/, samples/, themes/): the working directory, then the
/// executable's folder and every folder above it, up to the root. The one finder the default weights, the bundled
/// sample and the themes share, so that all three are found from the same places.
public enum ResourceFolders {
    /// The running executable (through /proc/self/exe, so a symlinked binary finds its checkout).
    public static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments.first ?? ""
    }

    /// `currentDirectory` first (nil: leave it out), then the executable's folder and its ancestors, without repeats.
    public static func candidates(currentDirectory: String? = FileManager.default.currentDirectoryPath,
                                  executablePath: String? = ResourceFolders.executablePath) -> [String] {
        var dirs: [String] = []
        if let currentDirectory { dirs.append(URL(fileURLWithPath: currentDirectory).standardizedFileURL.path) }
        if let executablePath, !executablePath.isEmpty {
            var dir = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
            while true {
                dirs.append(dir.path)
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path || parent.path.isEmpty { break }
                dir = parent
            }
        }
        var seen = Set<String>()
        return dirs.filter { seen.insert($0).inserted }
    }

    /// The first `relative` path that exists under a candidate folder (`requiring`: a file that must be inside it).
    public static func first(_ relative: String, requiring inside: String? = nil,
                             currentDirectory: String? = FileManager.default.currentDirectoryPath,
                             executablePath: String? = ResourceFolders.executablePath) -> String? {
        for base in candidates(currentDirectory: currentDirectory, executablePath: executablePath) {
            let path = (base as NSString).appendingPathComponent(relative)
            if FileManager.default.fileExists(atPath: inside.map { (path as NSString).appendingPathComponent($0) } ?? path) {
                return path
            }
        }
        return nil
    }
}
