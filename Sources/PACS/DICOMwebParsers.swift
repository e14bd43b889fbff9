import Foundation

/// The client's internal readers of what a server sends, for the fuzz harness (one door, so that the harness
/// runs exactly the code the client runs).
public enum DICOMwebParsers {
    public static func transferSyntax(of file: Data) -> String? { DicomMetaHeader.transferSyntax(of: file) }
    public static func storeFailures(_ body: Data) -> [String: String] { DICOMwebClient.failures(inStoreAnswer: body) }
    public static func netrcEntry(_ text: String, host: String) -> (login: String, password: String)? {
        NetrcFile(text: text).entry(for: host).map { ($0.login, $0.password) }
    }
}
