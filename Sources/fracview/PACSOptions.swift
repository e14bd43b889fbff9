import ArgumentParser
import Foundation
import PACS

/// The options every command that talks to a PACS shares: which studies, and where the instance cache lives.
struct PACSOptions: ParsableArguments {
    @Option(help: ArgumentHelp("With a DICOMweb URL: a study to review (repeatable).", valueName: "UID"))
    var study: [String] = []

    @Option(help: ArgumentHelp("With a DICOMweb URL: a QIDO-RS match key, e.g. ModalitiesInStudy=DX or StudyDate=20261201- (repeatable).",
                               valueName: "KEY=VALUE"))
    var query: [String] = []

    @Option(help: ArgumentHelp("The PACS instance cache (default: $FRACVIEW_PACS_CACHE, else ~/.cache/fracview/dicomweb).",
                               valueName: "DIR"))
    var pacsCache: String?

    @Option(help: ArgumentHelp("The PACS instance cache's size limit in GiB; the least recently used files go first.", valueName: "GIB"))
    var pacsCacheLimit: Double = Double(InstanceCache.defaultLimitBytes >> 30)

    /// `KEY=VALUE` pairs, or a one-line error naming the malformed one.
    func queryPairs() throws -> [(String, String)] {
        try query.map { item in
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                throw ValidationError("--query wants KEY=VALUE (got \(item))")
            }
            return (String(item[..<eq]), String(item[item.index(after: eq)...]))
        }
    }

    func client(url: String, environment: [String: String]) throws -> DICOMwebClient {
        let server: DICOMwebServer
        do { server = try DICOMwebServer(url) } catch { throw CommandFailure("\(error)") }
        return DICOMwebClient(server: server, credentials: DICOMwebCredentials.resolve(for: server, environment: environment))
    }

    func cache(environment: [String: String]) throws -> InstanceCache {
        guard pacsCacheLimit > 0, pacsCacheLimit.isFinite else { throw ValidationError("--pacs-cache-limit must be a positive number of GiB") }
        do {
            return try InstanceCache(folder: pacsCache ?? InstanceCache.defaultFolder(environment: environment),
                                     limitBytes: Int64(pacsCacheLimit * Double(1 << 30)))
        } catch { throw CommandFailure("\(error)") }
    }
}
