import ArgumentParser
import Foundation
import Imaging
import Terminal

/// `fracview decode`: an image as the review screen first shows it, as a PNG (for scripts and tests).
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Write an image (JPEG, PNG or DICOM) as it is shown at its opening window, as a PNG.",
        discussion: """
            DICOM: the first frame, after the modality LUT (Rescale Slope/Intercept), at the file's first window \
            (Window Center/Width) or through its VOI LUT, else over its full range; MONOCHROME1 inverted. Grey images \
            are written as 8-bit grey PNGs, colour ones as RGB.
            """)

    @Argument(help: "The image file.")
    var image: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the PNG.", valueName: "OUT.png"))
    var output: String

    func run() throws {
        let decoded: RGBImage
        do { decoded = try ImageDecoder.decode(path: image) } catch { ModelLoading.exitWithError(error) }
        let grey = decoded.source.map { $0.color == nil } ?? decoded.isGrey
        do { try PNGWriter.write(decoded, to: output, grey: grey) } catch { ModelLoading.exitWithError(error) }
        var facts = ["\(decoded.width)×\(decoded.height)", grey ? "grey" : "RGB"]
        if let m = decoded.source {
            facts.append(m.transferSyntax)
            // A colour file has no window of its own: its 8-bit RGB is shown as it is.
            if m.color == nil {
                facts.append(m.voiLUTRendering != nil && m.windows.isEmpty ? "VOI LUT" : "W \(Int(m.initialWindow.width)) L \(Int(m.initialWindow.center))")
            }
            if let note = m.note { facts.append(note) }
        }
        Console.line("\(output): " + facts.joined(separator: ", "))
    }
}

