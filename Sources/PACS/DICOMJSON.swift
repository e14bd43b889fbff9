import Foundation

/// One dataset of a QIDO-RS answer in the DICOM JSON model (PS3.18 F.2): `{"0020000D": {"vr": "UI", "Value": [...]}}`.
public struct DICOMJSONDataset: Sendable {
    private let values: [String: [String]]

    /// The datasets of an `application/dicom+json` array; an empty body (204) is no dataset.
    public static func array(from data: Data) throws -> [DICOMJSONDataset] {
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D }) { return [] }
        guard let array = (try? JSONSerialization.jsonObject(with: data)) as? [Any] else {
            throw PACSError("the answer is not a DICOM JSON array")
        }
        return array.compactMap { ($0 as? [String: Any]).map(DICOMJSONDataset.init) }
    }

    init(_ object: [String: Any]) {
        var values: [String: [String]] = [:]
        for (tag, attribute) in object {
            guard let attribute = attribute as? [String: Any], let list = attribute["Value"] as? [Any] else { continue }
            values[tag.uppercased()] = list.compactMap { item in
                switch item {
                case let s as String: return s
                case let n as NSNumber: return n.stringValue
                // Person names come as {"Alphabetic": "…"}.
                case let d as [String: Any]: return d["Alphabetic"] as? String
                default: return nil
                }
            }
        }
        self.values = values
    }

    public func string(_ tag: String) -> String? { values[tag]?.first }
    public func strings(_ tag: String) -> [String] { values[tag] ?? [] }
    public func int(_ tag: String) -> Int? { string(tag).flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
}

/// The tags fracview asks a PACS for.
enum Tag {
    static let studyInstanceUID = "0020000D", seriesInstanceUID = "0020000E", sopInstanceUID = "00080018"
    static let sopClassUID = "00080016", studyDate = "00080020", studyTime = "00080030"
    static let studyDescription = "00081030", modalitiesInStudy = "00080061", modality = "00080060"
    static let seriesNumber = "00200011", seriesDescription = "0008103E", instanceNumber = "00200013"
    static let studySeriesCount = "00201206", studyInstanceCount = "00201208"
    static let rows = "00280010", columns = "00280011"
}
