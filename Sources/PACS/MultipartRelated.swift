import Foundation

/// `multipart/related` bodies (RFC 2387) as DICOMweb uses them: WADO-RS answers with one part per instance, and
/// STOW-RS takes one part per file.
public enum MultipartRelated {
    public struct Part: Equatable {
        /// Header names in lower case.
        public var headers: [String: String]
        public var body: Data
        public init(headers: [String: String], body: Data) { self.headers = headers; self.body = body }
    }

    /// A Content-Type's media type (lower case) and parameters (names in lower case; values unquoted, with `\"`
    /// escapes resolved). Parameters may be quoted or not, in any order; a `;` inside quotes is part of the value.
    public static func parseContentType(_ value: String) -> (type: String, parameters: [String: String]) {
        var fields: [String] = []
        var field = ""
        var quoted = false, escaped = false
        for ch in value {
            if escaped { field.append(ch); escaped = false; continue }
            if quoted && ch == "\\" { field.append(ch); escaped = true; continue }
            if ch == "\"" { quoted.toggle() }
            if ch == ";" && !quoted { fields.append(field); field = ""; continue }
            field.append(ch)
        }
        fields.append(field)
        let type = fields[0].trimmingCharacters(in: .whitespaces).lowercased()
        var parameters: [String: String] = [:]
        for raw in fields.dropFirst() {
            guard let eq = raw.firstIndex(of: "=") else { continue }
            let name = raw[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            var v = raw[raw.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if v.count >= 2 && v.hasPrefix("\"") && v.hasSuffix("\"") {
                v = String(v.dropFirst().dropLast())
                var unescaped = "", escaping = false
                for ch in v {
                    if escaping { unescaped.append(ch); escaping = false } else if ch == "\\" { escaping = true } else { unescaped.append(ch) }
                }
                v = unescaped
            }
            if !name.isEmpty { parameters[name] = v }
        }
        return (type, parameters)
    }

    /// The parts of a body whose Content-Type is `contentType`. Throws for a body that is not multipart, has no
    /// boundary, or never closes; the preamble and epilogue are ignored.
    public static func parse(_ body: Data, contentType: String) throws -> [Part] {
        let (type, parameters) = parseContentType(contentType)
        guard type.hasPrefix("multipart/") else { throw PACSError("expected a multipart answer, got \(type.isEmpty ? "no Content-Type" : type)") }
        guard let boundary = parameters["boundary"], !boundary.isEmpty, boundary.utf8.count <= 200 else {
            throw PACSError("multipart answer without a boundary")
        }
        let delimiter = Data("--\(boundary)".utf8)
        var parts: [Part] = []
        // The first delimiter may start the body; every later one follows a CRLF that belongs to it.
        guard var cursor = body.range(of: delimiter)?.upperBound else { throw PACSError("multipart answer: boundary not found") }
        let crlf = Data("\r\n".utf8)
        while true {
            // After a delimiter: "--" closes the body; otherwise transport padding and CRLF, then a part.
            if body[cursor...].starts(with: Data("--".utf8)) { return parts }
            guard let lineEnd = body.range(of: crlf, in: cursor..<body.endIndex) else {
                throw PACSError("multipart answer ends inside a part")
            }
            let partStart = lineEnd.upperBound
            guard let next = body.range(of: crlf + delimiter, in: partStart..<body.endIndex) else {
                throw PACSError("multipart answer ends inside a part (no closing boundary)")
            }
            parts.append(try part(body[partStart..<next.lowerBound]))
            cursor = next.upperBound
        }
    }

    private static func part(_ data: Data) throws -> Part {
        let separator = Data("\r\n\r\n".utf8)
        var headers: [String: String] = [:]
        let bodyStart: Data.Index
        if data.starts(with: Data("\r\n".utf8)) {
            bodyStart = data.startIndex + 2  // no headers
        } else if let end = data.range(of: separator) {
            let text = String(decoding: data[data.startIndex..<end.lowerBound], as: UTF8.self)
            for line in text.components(separatedBy: "\r\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()] =
                    line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            bodyStart = end.upperBound
        } else {
            throw PACSError("multipart part without a header end")
        }
        return Part(headers: headers, body: Data(data[bodyStart...]))
    }

    /// A body of `parts` (each a DICOM file) and its Content-Type; the boundary is random and checked against the
    /// data, so no file can contain it.
    public static func build(_ files: [Data], type: String = "application/dicom") -> (body: Data, contentType: String) {
        var boundary = "fracview-" + UUID().uuidString
        while files.contains(where: { $0.range(of: Data(boundary.utf8)) != nil }) { boundary = "fracview-" + UUID().uuidString }
        var body = Data()
        for file in files {
            body.append(Data("--\(boundary)\r\nContent-Type: \(type)\r\n\r\n".utf8))
            body.append(file)
            body.append(Data("\r\n".utf8))
        }
        body.append(Data("--\(boundary)--\r\n".utf8))
        return (body, "multipart/related; type=\"\(type)\"; boundary=\(boundary)")
    }
}
