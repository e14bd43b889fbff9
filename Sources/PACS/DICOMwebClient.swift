import Foundation
import Imaging
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A study as QIDO-RS lists it: what `fracview pacs studies` shows. Nothing of the patient is asked for.
public struct StudySummary: Sendable, Equatable, Codable {
    public var uid: String
    public var date: String?
    public var time: String?
    public var description: String?
    public var modalities: [String]
    public var series: Int?
    public var instances: Int?
}

/// One instance of a study, as QIDO-RS lists it: where it is, and what the case list shows.
public struct InstanceSummary: Sendable, Equatable {
    public var study: String, series: String, sop: String
    public var sopClass: String?
    public var modality: String?
    public var seriesNumber: Int?
    public var seriesDescription: String?
    public var instanceNumber: Int?
    public var studyDate: String?

    public init(study: String, series: String, sop: String, sopClass: String? = nil, modality: String? = nil,
                seriesNumber: Int? = nil, seriesDescription: String? = nil, instanceNumber: Int? = nil, studyDate: String? = nil) {
        self.study = study; self.series = series; self.sop = sop; self.sopClass = sopClass; self.modality = modality
        self.seriesNumber = seriesNumber; self.seriesDescription = seriesDescription; self.instanceNumber = instanceNumber
        self.studyDate = studyDate
    }

    /// Structured reports, presentation states, key-object selections, encapsulated documents, waveforms, RT
    /// plans: objects with no picture to review. By SOP class, else by modality.
    public var isImage: Bool {
        let nonImageClasses = ["1.2.840.10008.5.1.4.1.1.88.", "1.2.840.10008.5.1.4.1.1.11.", "1.2.840.10008.5.1.4.1.1.104.",
                               "1.2.840.10008.5.1.4.1.1.9.", "1.2.840.10008.5.1.4.1.1.481.", "1.2.840.10008.5.1.4.1.1.66"]
        if let sopClass, nonImageClasses.contains(where: { sopClass.hasPrefix($0) }) { return false }
        return !["SR", "PR", "KO", "DOC", "RTPLAN", "RTSTRUCT", "REG", "ECG"].contains(modality?.uppercased() ?? "")
    }
}

/// What a STOW-RS upload did.
public struct StoreOutcome: Sendable, Equatable {
    /// The HTTP status: 200 all stored, 202 some not (or with warnings), 409 none.
    public var status: Int
    /// SOP Instance UID → the server's reason, for the instances it refused.
    public var failed: [String: String]
}

/// DICOMweb over HTTP: QIDO-RS to find studies and instances, WADO-RS to fetch an instance, STOW-RS to store.
/// Every call blocks (the callers are background threads) and fails with one line that names the server, never
/// its password.
public final class DICOMwebClient: @unchecked Sendable {
    public let server: DICOMwebServer
    public let credentials: DICOMwebCredentials
    private let transport = HTTPTransport()
    /// Transfer syntaxes fracview's DCMTK decodes: uncompressed (implicit, explicit little and big endian),
    /// deflated, RLE, JPEG baseline, extended, lossless (two), JPEG-LS (two). Anything else is asked for again,
    /// transcoded by the server to Explicit VR Little Endian.
    public static let decodableSyntaxes: Set<String> = [
        "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.5",
        "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81",
    ]
    static let explicitLittleEndian = "1.2.840.10008.1.2.1"
    /// A QIDO answer of more than this is refused (a few thousand datasets of text).
    static let listingLimit = 64 << 20

    public init(server: DICOMwebServer, credentials: DICOMwebCredentials) {
        self.server = server
        self.credentials = credentials
    }

    // MARK: QIDO-RS

    /// The studies matching `query` (QIDO-RS keys: `ModalitiesInStudy=DX`, `StudyDate=20261201-`, …).
    public func studies(query: [(String, String)]) throws -> [StudySummary] {
        let fields = [Tag.studyDescription, Tag.modalitiesInStudy, Tag.studySeriesCount, Tag.studyInstanceCount, Tag.studyTime]
        let answer = try get("studies", query: query + fields.map { ("includefield", $0) }, accept: "application/dicom+json",
                             limit: Self.listingLimit)
        return try DICOMJSONDataset.array(from: answer.body).compactMap { d in
            guard let uid = d.string(Tag.studyInstanceUID) else { return nil }
            return StudySummary(uid: uid, date: d.string(Tag.studyDate), time: d.string(Tag.studyTime),
                                description: d.string(Tag.studyDescription), modalities: d.strings(Tag.modalitiesInStudy),
                                series: d.int(Tag.studySeriesCount), instances: d.int(Tag.studyInstanceCount))
        }
    }

    /// Every instance of a study, in series and instance order.
    public func instances(study: String) throws -> [InstanceSummary] {
        try checkUID(study)
        let fields = [Tag.modality, Tag.seriesNumber, Tag.seriesDescription, Tag.instanceNumber, Tag.studyDate, Tag.sopClassUID]
        let answer = try get("studies/\(study)/instances", query: fields.map { ("includefield", $0) },
                             accept: "application/dicom+json", limit: Self.listingLimit)
        let list = try DICOMJSONDataset.array(from: answer.body).compactMap { d -> InstanceSummary? in
            guard let series = d.string(Tag.seriesInstanceUID), let sop = d.string(Tag.sopInstanceUID),
                  (try? checkUID(series)) != nil, (try? checkUID(sop)) != nil else { return nil }
            return InstanceSummary(study: study, series: series, sop: sop, sopClass: d.string(Tag.sopClassUID),
                                   modality: d.string(Tag.modality), seriesNumber: d.int(Tag.seriesNumber),
                                   seriesDescription: d.string(Tag.seriesDescription),
                                   instanceNumber: d.int(Tag.instanceNumber), studyDate: d.string(Tag.studyDate))
        }
        return list.sorted { a, b in
            (a.seriesNumber ?? .max, a.series, a.instanceNumber ?? .max, a.sop) < (b.seriesNumber ?? .max, b.series, b.instanceNumber ?? .max, b.sop)
        }
    }

    // MARK: WADO-RS

    /// The instance as a DICOM file: in its stored transfer syntax when fracview decodes that, otherwise transcoded
    /// by the server to Explicit VR Little Endian.
    public func retrieve(_ instance: InstanceSummary) throws -> Data {
        let path = "studies/\(instance.study)/series/\(instance.series)/instances/\(instance.sop)"
        let stored = try retrieve(path: path, syntax: "*")
        if let file = stored, let syntax = DicomMetaHeader.transferSyntax(of: file), Self.decodableSyntaxes.contains(syntax) {
            return file
        }
        guard let transcoded = try retrieve(path: path, syntax: Self.explicitLittleEndian) else {
            throw PACSError("\(server.display): the server sends instance \(instance.sop) in no transfer syntax fracview decodes")
        }
        return transcoded
    }

    /// nil when the server refuses that transfer syntax (400, 406).
    private func retrieve(path: String, syntax: String) throws -> Data? {
        let accept = "multipart/related; type=\"application/dicom\"; transfer-syntax=\(syntax)"
        let answer = try request("GET", path, query: [], accept: accept, body: nil, contentType: nil,
                                 limit: ImageDecoder.maxFileBytes + (1 << 20), acceptStatus: [400, 406])
        if answer.status == 400 || answer.status == 406 { return nil }
        let parts = try MultipartRelated.parse(answer.body, contentType: answer.headers["content-type"] ?? "")
        guard let first = parts.first(where: { !$0.body.isEmpty }) else { throw PACSError("\(server.display): empty answer for \(path)") }
        return first.body
    }

    // MARK: STOW-RS

    /// Stores DICOM files into the server (all in one request). 200, 202 and 409 are answers, with the refused
    /// instances and why; any other status throws.
    public func store(_ files: [Data]) throws -> StoreOutcome {
        let (body, contentType) = MultipartRelated.build(files)
        let answer = try request("POST", "studies", query: [], accept: "application/dicom+json", body: body,
                                 contentType: contentType, limit: Self.listingLimit, acceptStatus: [202, 409])
        var failed = Self.failures(inStoreAnswer: answer.body)
        if answer.status == 409 && failed.isEmpty { failed["*"] = "refused (409 Conflict)" }
        return StoreOutcome(status: answer.status, failed: failed)
    }

    /// The Failed SOP Sequence of a STOW-RS answer: SOP Instance UID → the server's failure reason.
    static func failures(inStoreAnswer body: Data) -> [String: String] {
        var failed: [String: String] = [:]
        if let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any],
           let sequence = (object["00081198"] as? [String: Any])?["Value"] as? [Any] {
            for case let item as [String: Any] in sequence {
                let d = DICOMJSONDataset(item)
                failed[d.string("00081155") ?? "?"] = d.string("00081197").map { "failure reason \($0)" } ?? "refused"
            }
        }
        return failed
    }

    // MARK: HTTP

    private func get(_ path: String, query: [(String, String)], accept: String, limit: Int) throws -> HTTPTransport.Response {
        try request("GET", path, query: query, accept: accept, body: nil, contentType: nil, limit: limit, acceptStatus: [])
    }

    private func request(_ method: String, _ path: String, query: [(String, String)], accept: String, body: Data?,
                         contentType: String?, limit: Int, acceptStatus: Set<Int>) throws -> HTTPTransport.Response {
        var request = URLRequest(url: server.url(path, query: query))
        request.httpMethod = method
        request.setValue(accept, forHTTPHeaderField: "Accept")
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        if let auth = credentials.authorization { request.setValue(auth, forHTTPHeaderField: "Authorization") }
        request.httpBody = body
        let answer: HTTPTransport.Response
        do {
            answer = try transport.send(request, limit: limit)
        } catch let error as PACSError {
            throw PACSError("\(server.display): \(error.message)")
        } catch {
            throw PACSError("cannot reach the PACS at \(server.display): \(Self.reason(error))")
        }
        if (200..<300).contains(answer.status) && answer.status != 202 || acceptStatus.contains(answer.status) { return answer }
        throw PACSError("\(server.display): \(method) \(path.split(separator: "/").first ?? ""): \(Self.statusText(answer.status))"
                        + (answer.status == 401 || answer.status == 403 ? " (\(credentials))" : ""))
    }

    static func statusText(_ status: Int) -> String {
        switch status {
        case 401: return "401 Unauthorized: the user name and password or token were refused"
        case 403: return "403 Forbidden"
        case 404: return "404 Not Found"
        case 202: return "202 Accepted with warnings"
        default: return "HTTP \(status) \(HTTPURLResponse.localizedString(forStatusCode: status))"
        }
    }

    private static func reason(_ error: Error) -> String {
        let text = (error as NSError).localizedDescription
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// A UID goes into a URL path and a file name: digits and dots only, at most 64 characters (PS3.5 9.1).
    func checkUID(_ uid: String) throws {
        guard DicomUID.isValid(uid) else { throw PACSError("\(server.display): not a DICOM UID: \(uid.prefix(80))") }
    }
}

public enum DicomUID {
    public static func isValid(_ uid: String) -> Bool {
        !uid.isEmpty && uid.utf8.count <= 64 && uid.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E }
            && !uid.hasPrefix(".") && !uid.hasSuffix(".") && !uid.contains("..")
    }
}
