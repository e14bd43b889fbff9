import Basics
import Foundation

/// An 8-bit RGB image, pixels interleaved row-major (r, g, b, r, g, b, …).
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]
    /// The full-depth image these pixels were rendered from (a DICOM file at its opening window), so that
    /// window/level can act on the stored values.
    public var source: MedicalImage?

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "RGBImage: pixel count does not match size")
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// Why an image could not be read; `description` is one line for the user.
public struct ImageError: OneLineError, Equatable {
    public let path: String
    public let reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
    public var message: String { "\(path): \(reason)" }
    /// Through the one terminal sanitiser: control characters, line separators and bidi overrides in hostile file
    /// names are shown as `?`, so the message stays one line and cannot drive or reorder the terminal; `path` keeps
    /// the name as given.
    public var description: String {
        TerminalSafeText.clean(path) + ": " + TerminalSafeText.clean(reason.split(whereSeparator: \.isNewline).joined(separator: " "))
    }
}

extension RGBImage {
    /// True when every pixel is a grey (R = G = B): an X-ray, windowed or inverted.
    public var isGrey: Bool {
        pixels.withUnsafeBufferPointer { p in
            var i = 0
            while i + 2 < p.count {
                if p[i] != p[i + 1] || p[i] != p[i + 2] { return false }
                i += 3
            }
            return true
        }
    }
}
