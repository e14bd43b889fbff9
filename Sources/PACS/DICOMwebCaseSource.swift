import Datasets
import Foundation
import Imaging

/// The cases of PACS studies, for the same review screen, store and export as a folder's: every image instance of
/// the studies (structured reports, presentation states and other non-image objects are skipped and counted),
/// downloaded in the background into the instance cache. A PACS case is unlabelled: the dataset's labels have no
/// place here.
///
/// A case's key (the decisions' `case_id`) is `SERVER/studies/S/series/S/instances/I`, SERVER without user
/// or password; its display name is patient-free: study date, modality and series number, instance number.
public final class DICOMwebCaseSource: CaseSource {
    /// Decisions on PACS cases are kept under this split.
    public static let split = "pacs"

    public let cases: [DatasetCase]
    public let instances: [InstanceSummary]
    /// Instances that are not images (an SR, a presentation state), left out of the review.
    public let skippedNonImages: Int
    /// Studies listed from the cache because the server could not be reached.
    public let offlineStudies: [String]
    public let downloader: InstanceDownloader
    public let cache: InstanceCache

    /// Lists the instances of `studies` (or, with `query`, of the studies QIDO-RS finds). A study the server can't
    /// list now is read from the cache's copy of its listing, if there is one.
    public static func open(client: DICOMwebClient, cache: InstanceCache, studies: [String], query: [(String, String)],
                            parallel: Int = 4) throws -> DICOMwebCaseSource {
        var uids = studies
        for uid in uids { try client.checkUID(uid) }
        if !query.isEmpty { uids += try client.studies(query: query).map(\.uid).filter { !uids.contains($0) } }
        guard !uids.isEmpty else { throw PACSError("\(client.server.display): no study matches \(describe(query))") }
        var all: [InstanceSummary] = []
        var offline: [String] = []
        for uid in uids {
            do {
                let listed = try client.instances(study: uid)
                cache.saveListing(try JSONEncoder().encode(listed.map(CachedInstance.init)), study: uid)
                all += listed
            } catch let error as PACSError {
                guard let saved = cache.listing(study: uid),
                      let list = try? JSONDecoder().decode([CachedInstance].self, from: saved) else { throw error }
                offline.append(uid)
                all += list.map(\.summary)
            }
        }
        let images = all.filter(\.isImage)
        guard !images.isEmpty else {
            throw PACSError("\(client.server.display): no image instances in \(uids.count == 1 ? "study \(uids[0])" : "\(uids.count) studies")"
                            + (all.isEmpty ? "" : " (\(all.count) non-image objects)"))
        }
        return DICOMwebCaseSource(client: client, cache: cache, instances: images, skipped: all.count - images.count,
                                  offline: offline, parallel: parallel)
    }

    private init(client: DICOMwebClient, cache: InstanceCache, instances: [InstanceSummary], skipped: Int,
                 offline: [String], parallel: Int) {
        self.instances = instances
        self.cache = cache
        self.skippedNonImages = skipped
        self.offlineStudies = offline
        self.cases = instances.map { Self.reviewCase($0, server: client.server, cache: cache) }
        cache.pin(instances.map(\.sop))
        downloader = InstanceDownloader(client: client, cache: cache, instances: instances, parallel: parallel)
    }

    static func reviewCase(_ i: InstanceSummary, server: DICOMwebServer, cache: InstanceCache) -> DatasetCase {
        DatasetCase(imagePath: cache.path(for: i.sop), relativePath: caseKey(i, server: server), split: split,
                    truth: .unlabelled(reason: "a PACS case"), classesInLabelFile: [], displayName: displayName(i))
    }

    public static func caseKey(_ i: InstanceSummary, server: DICOMwebServer) -> String {
        "\(server.display)/studies/\(i.study)/series/\(i.series)/instances/\(i.sop)"
    }

    /// The study, series and instance UIDs of a case key of this server, or nil for any other key.
    public static func instance(fromKey key: String, server: DICOMwebServer) -> (study: String, series: String, sop: String)? {
        let prefix = server.display + "/studies/"
        guard key.hasPrefix(prefix) else { return nil }
        let parts = key.dropFirst(prefix.count).split(separator: "/").map(String.init)
        guard parts.count == 5, parts[1] == "series", parts[3] == "instances",
              [parts[0], parts[2], parts[4]].allSatisfy(DicomUID.isValid) else { return nil }
        return (parts[0], parts[2], parts[4])
    }

    /// "2026-12-01 · DX series 1 · #3": what the screen calls the case, with nothing of the patient.
    static func displayName(_ i: InstanceSummary) -> String {
        var date = i.studyDate ?? "undated"
        if date.count == 8, date.allSatisfy(\.isNumber) {
            date = "\(date.prefix(4))-\(date.dropFirst(4).prefix(2))-\(date.suffix(2))"
        }
        let series = [i.modality, i.seriesNumber.map { "series \($0)" }].compactMap { $0 }.joined(separator: " ")
        return [date, series.isEmpty ? nil : series, i.instanceNumber.map { "#\($0)" }]
            .compactMap { $0 }.joined(separator: " · ")
    }

    static func describe(_ query: [(String, String)]) -> String {
        query.isEmpty ? "the query" : query.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
    }

    public func bytes(of index: Int) throws -> (data: Data, file: String) {
        guard cases.indices.contains(index) else { throw ImageError(path: "case \(index)", reason: "no such case") }
        do {
            return try downloader.wait(index)
        } catch let error as ImageError {
            throw ImageError(path: cases[index].shortName, reason: error.reason)
        } catch {
            throw ImageError(path: cases[index].shortName, reason: "download failed: \(error)")
        }
    }

    public func focus(_ index: Int) {
        downloader.start()
        downloader.prioritize(index)
    }

    public var transferProgress: (done: Int, total: Int, failed: Int)? { downloader.progress }
}

/// A study listing as the cache keeps it.
private struct CachedInstance: Codable {
    var study: String, series: String, sop: String
    var sopClass: String?, modality: String?, seriesNumber: Int?, seriesDescription: String?, instanceNumber: Int?
    var studyDate: String?
    init(_ i: InstanceSummary) {
        study = i.study; series = i.series; sop = i.sop; sopClass = i.sopClass; modality = i.modality
        seriesNumber = i.seriesNumber; seriesDescription = i.seriesDescription; instanceNumber = i.instanceNumber
        studyDate = i.studyDate
    }
    var summary: InstanceSummary {
        InstanceSummary(study: study, series: series, sop: sop, sopClass: sopClass, modality: modality,
                        seriesNumber: seriesNumber, seriesDescription: seriesDescription, instanceNumber: instanceNumber,
                        studyDate: studyDate)
    }
}
