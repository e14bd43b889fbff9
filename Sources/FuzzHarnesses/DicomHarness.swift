import Foundation
import Imaging

/// `DicomDecoder.decode`: DCMTK's parser and decoders behind the shim, then a render at a narrow window.
enum DicomHarness {
    static func run(_ bytes: [UInt8]) {
        var data = Data(bytes)
        // Most mutations would break the preamble; keep the marker so the parser itself is reached.
        if data.count >= 132 { data.replaceSubrange(128..<132, with: Array("DICM".utf8)) }
        guard let image = try? DicomDecoder.decode(data: data, name: "fuzz.dcm") else { return }
        let w = image.initialWindow
        _ = image.render(window: WindowLevel(center: w.center, width: max(1, w.width / 3)), inverted: true)
    }
}
