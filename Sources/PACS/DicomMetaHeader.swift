import Foundation

/// The File Meta Information of a Part-10 file (group 0002, always Explicit VR Little Endian): enough to know the
/// transfer syntax before DCMTK reads the file.
enum DicomMetaHeader {
    /// (0002,0010) Transfer Syntax UID, or nil when the bytes are not a Part-10 file or the element is missing.
    static func transferSyntax(of file: Data) -> String? {
        let bytes = [UInt8](file.prefix(4096))
        guard bytes.count > 132, bytes[128..<132].elementsEqual("DICM".utf8) else { return nil }
        var i = 132
        while i + 8 <= bytes.count {
            let group = UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8
            let element = UInt16(bytes[i + 2]) | UInt16(bytes[i + 3]) << 8
            guard group == 0x0002 else { return nil }
            let vr = String(decoding: bytes[(i + 4)..<(i + 6)], as: UTF8.self)
            var length: Int, start: Int
            if ["OB", "OW", "OF", "SQ", "UT", "UN"].contains(vr) {
                guard i + 12 <= bytes.count else { return nil }
                length = Int(bytes[i + 8]) | Int(bytes[i + 9]) << 8 | Int(bytes[i + 10]) << 16 | Int(bytes[i + 11]) << 24
                start = i + 12
            } else {
                length = Int(bytes[i + 6]) | Int(bytes[i + 7]) << 8
                start = i + 8
            }
            guard length >= 0, start + length <= bytes.count else { return nil }
            if element == 0x0010 {
                return String(decoding: bytes[start..<(start + length)], as: UTF8.self)
                    .trimmingCharacters(in: CharacterSet(charactersIn: "\0 "))
            }
            i = start + length
        }
        return nil
    }
}
