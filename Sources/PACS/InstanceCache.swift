import Basics
import Model
import Foundation
import Imaging

/// Downloaded instances on this machine, keyed by SOP Instance UID, so that reopening a study needs no network.
/// Each file is written atomically with its SHA-256 beside it and checked on every read: a cached file that changed
/// (a disk error, an edit) is never used silently; it is dropped, fetched again, and `notices` says so. The folder
/// has a size limit: past it, the least recently used files go first (never those of the review in progress).
/// Study listings are kept too (`studies/UID.json`), for opening a study offline.
public final class InstanceCache: @unchecked Sendable {
    public let folder: String
    public let limitBytes: Int64
    private let lock = NSLock()
    private var pinned: Set<String> = []
    private var noticeList: [String] = []

    /// Default 4 GiB: a few thousand radiographs.
    public static let defaultLimitBytes: Int64 = 4 << 30

    /// `$FRACVIEW_PACS_CACHE`, else `$XDG_CACHE_HOME/fracview/dicomweb`, else `~/.cache/fracview/dicomweb`.
    public static func defaultFolder(environment: [String: String]) -> String {
        if let explicit = environment["FRACVIEW_PACS_CACHE"], !explicit.isEmpty { return explicit }
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) as NSString).appendingPathComponent(".cache")
        return ((base as NSString).appendingPathComponent("fracview") as NSString).appendingPathComponent("dicomweb")
    }

    public init(folder: String, limitBytes: Int64 = InstanceCache.defaultLimitBytes) throws {
        self.folder = folder
        self.limitBytes = limitBytes
        do {
            // Private to the user: the files hold patients' images.
            try FileManager.default.createDirectory(atPath: folder + "/studies", withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw PACSError("cannot create the PACS cache folder \(folder): \((error as NSError).localizedDescription)")
        }
    }

    /// What happened that the user should know (a changed file dropped), once each.
    public func takeNotices() -> [String] {
        lock.lock(); defer { lock.unlock() }
        let n = noticeList; noticeList = []; return n
    }

    /// Instances the review in progress uses: never evicted while it runs.
    public func pin(_ sops: [String]) { lock.lock(); pinned.formUnion(sops); lock.unlock() }

    public func path(for sop: String) -> String { "\(folder)/\(sop).dcm" }
    private func hashPath(for sop: String) -> String { "\(folder)/\(sop).sha256" }

    /// The cached file, checked against its recorded SHA-256; nil when absent or changed (then removed, with a notice).
    public func load(_ sop: String) throws -> (data: Data, file: String)? {
        guard DicomUID.isValid(sop) else { return nil }
        let file = path(for: sop)
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        let data = try ImageDecoder.readFile(file)
        let recorded = (try? String(contentsOfFile: hashPath(for: sop), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard recorded == ContentDigest.sha256Hex(data) else {
            remove(sop)
            lock.lock()
            noticeList.append("cached instance \(sop) changed on disk since it was downloaded: fetched again")
            lock.unlock()
            return nil
        }
        // Recently used: eviction goes by modification time.
        try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: file)
        return (data, file)
    }

    /// Writes an instance (the hash first, so a file is never there without its hash), then trims the folder.
    public func store(_ data: Data, sop: String) throws -> String {
        guard DicomUID.isValid(sop) else { throw PACSError("not a DICOM UID: \(sop.prefix(80))") }
        do {
            try AtomicFile.write(Data((ContentDigest.sha256Hex(data) + "\n").utf8), to: hashPath(for: sop))
            try AtomicFile.write(data, to: path(for: sop))
        } catch {
            throw PACSError("cannot write to the PACS cache \(folder): \(error)")
        }
        trim()
        return path(for: sop)
    }

    /// A study's instance list as the server last gave it.
    public func saveListing(_ data: Data, study: String) {
        guard DicomUID.isValid(study) else { return }
        try? AtomicFile.write(data, to: "\(folder)/studies/\(study).json")
    }

    public func listing(study: String) -> Data? {
        guard DicomUID.isValid(study) else { return nil }
        return try? ImageDecoder.readFile("\(folder)/studies/\(study).json")
    }

    /// Files and bytes held.
    public var usage: (files: Int, bytes: Int64) {
        let files = entries()
        return (files.count, files.reduce(0) { $0 + $1.size })
    }

    private func remove(_ sop: String) {
        unlink(path(for: sop))
        unlink(hashPath(for: sop))
    }

    private func entries() -> [(sop: String, size: Int64, used: Date)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.compactMap { name in
            guard name.hasSuffix(".dcm") else { return nil }
            let attributes = try? FileManager.default.attributesOfItem(atPath: "\(folder)/\(name)")
            return (String(name.dropLast(4)), (attributes?[.size] as? NSNumber)?.int64Value ?? 0,
                    attributes?[.modificationDate] as? Date ?? .distantPast)
        }
    }

    /// Removes least recently used files until the folder is within its limit.
    func trim() {
        var files = entries()
        var total = files.reduce(0) { $0 + $1.size }
        guard total > limitBytes else { return }
        lock.lock(); let keep = pinned; lock.unlock()
        files.sort { $0.used < $1.used }
        for file in files where total > limitBytes && !keep.contains(file.sop) {
            remove(file.sop)
            total -= file.size
        }
    }
}
