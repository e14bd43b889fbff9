import Foundation

/// The bundled sample dataset (samples/hbfmid-test, the 64 HBFMID test images), found the way the default
/// weights are: under the working directory, else in the folders above the executable.
public enum BundledSample {
    public static let relativePath = "samples/hbfmid-test"
    public static let missingMessage =
        "no dataset given and the bundled sample (samples/hbfmid-test) was not found: pass a dataset folder"

    public static func locate() -> String? {
        let fm = FileManager.default
        var candidates = [fm.currentDirectoryPath]
        var dir = URL(fileURLWithPath: executablePath()).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<8 {
            candidates.append(dir.path)
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        for base in candidates {
            let path = base + "/" + relativePath
            if fm.fileExists(atPath: path + "/data.yaml") { return path }
        }
        return nil
    }

    private static func executablePath() -> String {
        if let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return link }
        return CommandLine.arguments.first ?? ""
    }
}
