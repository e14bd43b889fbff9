import Foundation
import PACS

/// What a PACS sends back, the untrusted side of the DICOMweb client: the first line is a Content-Type, the rest a
/// body, read as a WADO-RS multipart answer, as a QIDO-RS DICOM JSON array, as a STOW-RS answer, and as a
/// Part-10 meta header; the whole input also as a ~/.netrc.
enum DICOMwebHarness {
    static func run(_ bytes: [UInt8]) {
        let data = Data(bytes)
        let newline = data.firstIndex(of: 0x0A) ?? data.endIndex
        let contentType = String(decoding: data[data.startIndex..<newline], as: UTF8.self)
        let body = newline < data.endIndex ? Data(data[(newline + 1)...]) : Data()
        if let parts = try? MultipartRelated.parse(body, contentType: contentType) {
            for part in parts { _ = DICOMwebParsers.transferSyntax(of: part.body) }
        }
        _ = MultipartRelated.parseContentType(contentType)
        _ = try? DICOMJSONDataset.array(from: body)
        _ = DICOMwebParsers.storeFailures(body)
        _ = DICOMwebParsers.transferSyntax(of: data)
        _ = DICOMwebParsers.netrcEntry(String(decoding: bytes, as: UTF8.self), host: "127.0.0.1")
    }
}
