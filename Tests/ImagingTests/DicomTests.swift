import Foundation
@testable import Imaging
import XCTest

/// DICOM through DCMTK, against pydicom (Tests/Fixtures/dicom/make_dicom_fixtures.py): every transfer syntax of the
/// fixtures decodes to what pydicom's apply_modality_lut + apply_voi_lut show, within 1 grey level on average.
final class DicomTests: XCTestCase {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/dicom")

    func path(_ name: String) -> String { Self.dir.appendingPathComponent(name).path }

    func testEveryFixtureMatchesPydicom() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.dir.path).filter { $0.hasSuffix(".dcm") }.sorted()
        var compared = 0
        for name in names {
            let expectedPath = path(String(name.dropLast(4)) + ".png")
            guard FileManager.default.fileExists(atPath: expectedPath) else { continue }
            let shown = try ImageDecoder.decode(path: path(name))
            let expected = try ImageDecoder.decode(path: expectedPath)
            XCTAssertEqual([shown.width, shown.height], [expected.width, expected.height], name)
            XCTAssertNotNil(shown.source, "\(name) keeps its full-depth image")
            // Every channel: the colour files' PNGs are pydicom's RGB (a grey file's channels are equal).
            var total = 0
            for i in shown.pixels.indices { total += abs(Int(shown.pixels[i]) - Int(expected.pixels[i])) }
            let mean = Double(total) / Double(shown.pixels.count)
            XCTAssertLessThanOrEqual(mean, 1, "\(name): mean difference \(mean) levels")
            compared += 1
        }
        XCTAssertGreaterThanOrEqual(compared, 21)
    }

    /// Issue #26 §9 and §14: a big-endian file of 32-bit samples decodes to the same image as its little-endian
    /// twin, and colour files (RGB, YBR_FULL_422, JPEG, PALETTE COLOR) decode in colour instead of being refused.
    func testBigEndian32BitAndColourFiles() throws {
        let le = try ImageDecoder.decode(path: path("u32_le.dcm")), be = try ImageDecoder.decode(path: path("u32_be.dcm"))
        XCTAssertEqual(le.pixels, be.pixels)
        XCTAssertEqual(le.source?.minValue, be.source?.minValue)
        XCTAssertEqual(le.source?.maxValue, be.source?.maxValue)
        for name in ["rgb_le.dcm", "rgb_be.dcm", "rgb_jpeg.dcm", "ybr_full_422.dcm", "palette.dcm"] {
            let image = try ImageDecoder.decode(path: path(name))
            XCTAssertNotNil(image.source?.color, "\(name) is shown in colour")
            XCTAssertFalse(image.isGrey, name)
        }
        XCTAssertEqual(try ImageDecoder.decode(path: path("rgb_le.dcm")).pixels, try ImageDecoder.decode(path: path("rgb_be.dcm")).pixels)
    }

    func testTransferSyntaxesAndWhatTheFileSays() throws {
        let syntaxes: [(String, String)] = [
            ("implicit_le.dcm", "Little Endian Implicit"), ("explicit_le.dcm", "Little Endian Explicit"),
            ("explicit_be.dcm", "Big Endian Explicit"), ("rle.dcm", "RLE"), ("jpeg_baseline.dcm", "JPEG Baseline"),
            ("jpeg_extended.dcm", "JPEG Extended"), ("jpeg_lossless.dcm", "JPEG Lossless"), ("jpegls_lossless.dcm", "JPEG-LS"),
            ("bits1_le.dcm", "Little Endian Explicit"), ("bits1_be.dcm", "Big Endian Explicit"),
        ]
        for (name, syntax) in syntaxes {
            let m = try XCTUnwrap(try ImageDecoder.decode(path: path(name)).source, name)
            XCTAssertTrue(m.transferSyntax.contains(syntax), "\(name): \(m.transferSyntax)")
        }
        let twelve = try XCTUnwrap(try ImageDecoder.decode(path: path("explicit_le.dcm")).source)
        // Rescale Slope 2, Intercept −1024 over stored 0…4095: modality values −1024…7166.
        XCTAssertEqual(twelve.minValue, -1024, accuracy: 2.1)
        XCTAssertGreaterThan(twelve.maxValue, 6000)
        XCTAssertEqual(twelve.windows, [WindowLevel(center: 2048, width: 4000)])
        let mono1 = try XCTUnwrap(try ImageDecoder.decode(path: path("monochrome1.dcm")).source)
        XCTAssertTrue(mono1.monochrome1)
        let multi = try XCTUnwrap(try ImageDecoder.decode(path: path("multiframe.dcm")).source)
        XCTAssertEqual(multi.frames, 3)
        XCTAssertEqual(multi.note, "frame 1 of 3")
        XCTAssertNotNil(try ImageDecoder.decode(path: path("voi_lut.dcm")).source?.voiLUTRendering)
        // Both were once called damaged. A deflated data set is valid, and refused by name (DCMTK would allocate
        // every length it claims: the DICOM fuzzer's out-of-memory); a 1-bit image packs 8 pixels a byte.
        let deflated = try decodeFailure("deflated.dcm")
        XCTAssertTrue(deflated.contains("unsupported transfer syntax Deflated") && deflated.contains("1.2.840.10008.1.2.1.99"), deflated)
        XCTAssertFalse(deflated.contains("damaged"), deflated)
        for name in ["bits1_le.dcm", "bits1_be.dcm"] {
            let mask = try XCTUnwrap(try ImageDecoder.decode(path: path(name)).source, name)
            XCTAssertEqual(Set(mask.values), [0, 1], name)
        }
    }

    /// Window/level acts on the stored values: a window 40 units wide inside a 12-bit image spreads its pixels over
    /// many greys, where the 8-bit opening view (W 4000: about 16 units per grey) has only 2 or 3 for them.
    func testWindowActsOnTheStoredValues() throws {
        let image = try ImageDecoder.decode(path: path("explicit_le.dcm"))
        let m = try XCTUnwrap(image.source)
        let sorted = m.values.sorted()
        let median = sorted[sorted.count / 2]
        let inWindow = m.values.indices.filter { abs(m.values[$0] - median) < 20 }
        XCTAssertGreaterThan(inWindow.count, 20)
        let narrow = m.render(window: WindowLevel(center: median, width: 40))
        let fine = Set(inWindow.map { narrow.pixels[$0 * 3] })
        let coarse = Set(inWindow.map { image.pixels[$0 * 3] })
        XCTAssertLessThanOrEqual(coarse.count, 4)
        XCTAssertGreaterThanOrEqual(fine.count, 10, "full depth until windowing")
        // The reviewer's invert on top of the file's photometric interpretation.
        let mono1 = try XCTUnwrap(try ImageDecoder.decode(path: path("monochrome1.dcm")).source)
        let shown = mono1.render(window: nil), flipped = mono1.render(window: nil, inverted: true)
        XCTAssertEqual(zip(shown.pixels, flipped.pixels).map { Int($0) + Int($1) }.max(), 255)
    }

    /// Issue #26 §1: a window or a rescale of ±1e308 used to trap converting to Int (decode and the review screen).
    func testExtremeFloatTagsNeverTrap() throws {
        let wide = try XCTUnwrap(try ImageDecoder.decode(path: path("huge_window.dcm")).source)
        XCTAssertEqual(wide.windows, [], "a window beyond single precision is ignored")
        XCTAssertTrue(wide.initialWindow.width.isFinite && wide.initialWindow.center.isFinite)
        let refusal = try decodeFailure("huge_slope.dcm")
        XCTAssertTrue(refusal.contains("unsupported: Rescale Slope"), refusal)
        XCTAssertFalse(refusal.contains("damaged"), refusal)
    }

    /// `explicit_le.dcm` with `depth` undefined-length sequences nested inside one another before its pixel data,
    /// each in an item (the structure of a structured report, stacked), written to a temporary file.
    func nested(_ depth: Int, explicitVR: Bool = true) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path("explicit_le.dcm"))))
        let pixelTag: [UInt8] = [0xE0, 0x7F, 0x10, 0x00]
        let at = try XCTUnwrap((0..<(bytes.count - 4)).last { Array(bytes[$0..<($0 + 4)]) == pixelTag })
        var blob: [UInt8] = []
        for _ in 0..<depth {
            blob += [0x40, 0x00, 0x30, 0xA7] + Array("SQ".utf8) + [0, 0, 0xFF, 0xFF, 0xFF, 0xFF]   // (0040,A730) SQ, undefined
            blob += [0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]                               // item, undefined
        }
        for _ in 0..<depth {
            blob += [0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]   // item delimiter
            blob += [0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]   // sequence delimiter
        }
        bytes.insert(contentsOf: blob, at: at)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("nested-\(depth)-\(UUID().uuidString).dcm")
        try Data(bytes).write(to: out)
        return out.path
    }

    /// Issue #26 §2: 10,000 nested sequences in a 370 KB file overflowed DCMTK's stack (SIGSEGV in `decode` and
    /// `predict`). Nesting is bounded before DCMTK parses: 100 levels decode, 10,000 are refused in one line.
    func testDeeplyNestedSequencesAreRefusedNotACrash() throws {
        let shallow = try nested(100)
        defer { try? FileManager.default.removeItem(atPath: shallow) }
        XCTAssertEqual(try ImageDecoder.decode(path: shallow).pixels, try ImageDecoder.decode(path: path("explicit_le.dcm")).pixels)
        let deep = try nested(10_000)
        defer { try? FileManager.default.removeItem(atPath: deep) }
        do {
            _ = try ImageDecoder.decode(path: deep)
            XCTFail("10,000 nested sequences decoded")
        } catch let e as ImageError {
            XCTAssertTrue(e.reason.contains("unsupported: sequences nested more than 128 levels deep"), e.reason)
        }
    }

    /// The one-line reason a fixture is refused (a failure if it decodes).
    func decodeFailure(_ name: String) throws -> String {
        do {
            _ = try ImageDecoder.decode(path: path(name))
        } catch let e as ImageError {
            XCTAssertFalse("\(e)".contains("\n"))
            return e.reason
        }
        XCTFail("\(name) decoded")
        return ""
    }

    func testUnsupportedAndDamagedFilesAreOneLineErrors() throws {
        let j2k = try decodeFailure("jpeg2000.dcm")
        XCTAssertTrue(j2k.contains("unsupported transfer syntax JPEG 2000"), j2k)
        XCTAssertTrue(j2k.contains("1.2.840.10008.1.2.4.90"), j2k)
        // The DICOM fuzzer's finds: an element whose length field claims 2.4 GB in a 3 KB file (DCMTK allocated it
        // when reading from memory; read from a file it defers large elements and sees the stream end first), and a
        // JPEG fragment with a TEM marker before its frame header (DCMTK 3.6.7's marker scan spins on it forever).
        let regressions = Self.dir.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz/regressions/dicom")
        for name in try FileManager.default.contentsOfDirectory(atPath: regressions.path) where name.hasPrefix("oom-") || name.hasPrefix("timeout-") {
            do {
                _ = try ImageDecoder.decode(path: regressions.appendingPathComponent(name).path)
                XCTFail("\(name) decoded")
            } catch let e as ImageError {
                XCTAssertTrue(e.reason.hasPrefix("DICOM: "), e.reason)
                XCTAssertFalse(e.reason.contains("\n"))
            }
        }
        // A header that claims a 4000×4000 native frame over 3 KB of pixel data: refused before DCMTK allocates it.
        do {
            _ = try ImageDecoder.decode(path: regressions.appendingPathComponent("claims-4000x4000-in-3k.dcm").path)
            XCTFail("a frame larger than its pixel data decoded")
        } catch let e as ImageError {
            XCTAssertTrue(e.reason.contains("shorter than one 4000x4000 frame"), e.reason)
        }
        let whole = try Data(contentsOf: URL(fileURLWithPath: path("explicit_le.dcm")))
        for cut in [140, 400, whole.count - 100] {
            do {
                _ = try ImageDecoder.decode(data: whole.prefix(cut), name: "cut.dcm")
                XCTFail("a file cut at \(cut) bytes decoded")
            } catch let e as ImageError {
                XCTAssertTrue(e.reason.hasPrefix("DICOM: "), e.reason)
                XCTAssertFalse(e.reason.contains("\n"))
            }
        }
    }
}
