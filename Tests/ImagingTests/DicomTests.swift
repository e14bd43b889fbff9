import CDicom
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

    /// Every value a decode hands back (sizes, frames, photometry, windows, range, syntax, modality values, colour
    /// and VOI LUT renderings, the opening view), folded into one FNV-1a digest; or the one-line reason it failed.
    static func outcome(_ decode: () throws -> RGBImage) -> String {
        do {
            let image = try decode()
            guard let m = image.source else { return "no full-depth image" }
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            func mix<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
                for b in bytes { hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
            }
            func mix(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { mix($0) } }
            for v in [m.width, m.height, m.frames, m.monochrome1 ? 1 : 0, image.width, image.height] { mix(UInt64(v)) }
            for w in m.windows { mix(UInt64(w.center.bitPattern)); mix(UInt64(w.width.bitPattern)) }
            mix(UInt64(m.minValue.bitPattern)); mix(UInt64(m.maxValue.bitPattern))
            mix(m.transferSyntax.utf8)
            for v in m.values { mix(UInt64(v.bitPattern)) }
            mix(m.color?.pixels ?? []); mix(m.voiLUTRendering?.pixels ?? []); mix(image.pixels)
            return String(hash, radix: 16)
        } catch let e as ImageError {
            return "error: " + e.reason
        } catch {
            return "error: \(error)"
        }
    }

    /// Every DICOM input the tests have, by name: each fixture and fuzzer regression, `explicit_le.dcm` cut short,
    /// and nested 100 and 10,000 sequences deep.
    func everyInput() throws -> [(name: String, data: Data)] {
        var inputs: [(String, Data)] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: Self.dir.path).filter({ $0.hasSuffix(".dcm") }).sorted() {
            inputs.append((name, try Data(contentsOf: URL(fileURLWithPath: path(name)))))
        }
        let regressions = Self.dir.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz/regressions/dicom")
        for name in try FileManager.default.contentsOfDirectory(atPath: regressions.path).sorted() {
            inputs.append(("regressions/" + name, try Data(contentsOf: regressions.appendingPathComponent(name))))
        }
        let whole = try Data(contentsOf: URL(fileURLWithPath: path("explicit_le.dcm")))
        for cut in [0, 131, 132, 140, 400, 1000, whole.count - 100, whole.count - 1] {
            inputs.append(("explicit_le.dcm cut at \(cut)", whole.prefix(cut)))
        }
        // The pixel data's length field claiming far more than the file, and 2 bytes more than the file has left.
        let pixelTag: [UInt8] = [0xE0, 0x7F, 0x10, 0x00]
        let at = try XCTUnwrap((0..<(whole.count - 4)).last { Array(whole[$0..<($0 + 4)]) == pixelTag })
        for claim in [UInt32(0xF000_0000), UInt32(whole.count - at - 12 + 2)] {
            var patched = [UInt8](whole)
            withUnsafeBytes(of: claim.littleEndian) { patched.replaceSubrange((at + 8)..<(at + 12), with: $0) }
            inputs.append(("explicit_le.dcm pixel data claiming \(claim)", Data(patched)))
        }
        // Elements appended after the pixel data whose lengths claim more than the file: a sequence of defined length
        // (empty, and with an item that claims as much), and a short element (under DCMTK's 4 KiB deferral size).
        let sequence: [UInt8] = [0x40, 0x00, 0x30, 0xA7] + Array("SQ".utf8) + [0, 0, 0, 0, 0, 0x10]
        let tails: [(String, [UInt8])] = [
            ("an empty sequence claiming 268435456", sequence),
            ("a sequence and item claiming 268435456", sequence + [0xFE, 0xFF, 0x00, 0xE0, 0xF8, 0xFF, 0xFF, 0x0F]),
            ("a 3840-byte LO", [0x09, 0x00, 0x10, 0x00] + Array("LO".utf8) + [0x00, 0x0F]),
        ]
        for (label, tail) in tails { inputs.append(("explicit_le.dcm then \(label)", whole + Data(tail))) }
        for depth in [100, 10_000] {
            let file = try nested(depth)
            defer { try? FileManager.default.removeItem(atPath: file) }
            inputs.append(("nested \(depth)", try Data(contentsOf: URL(fileURLWithPath: file))))
        }
        return inputs
    }

    /// What each input gave when DICOM was read from a file by DCMTK's loadFile (fracview before issue #23: a file
    /// as it was, bytes through a temporary copy), recorded with that decoder; `outcome` above says what is compared.
    static let fileDecoderOutcomes: [(String, String)] = [
            ("bits1_be.dcm", "163b711b0c4ef10e"),
            ("bits1_le.dcm", "745942dab0ef11ee"),
            ("deflated.dcm", "error: DICOM: unsupported transfer syntax Deflated Explicit VR Little Endian (1.2.840.10008.1.2.1.99): a deflated data set is read whole, trusting every length it claims; convert it with `dcmconv +te`"),
            ("explicit_be.dcm", "88fcf7ef94b0d140"),
            ("explicit_le.dcm", "47febd9a38d6d4c8"),
            ("huge_slope.dcm", "error: DICOM: unsupported: Rescale Slope 1e+308 and Intercept 0 give pixel values beyond single precision"),
            ("huge_window.dcm", "c82f173ace48d051"),
            ("implicit_le.dcm", "cfd552403181197f"),
            ("jpeg2000.dcm", "error: DICOM: unsupported transfer syntax JPEG 2000 (Lossless only) (1.2.840.10008.1.2.4.90)"),
            ("jpeg_baseline.dcm", "95c4a12063af0928"),
            ("jpeg_extended.dcm", "d997acd10f6edfa3"),
            ("jpeg_lossless.dcm", "f506ddecbe443336"),
            ("jpegls_lossless.dcm", "a13e3b3350846007"),
            ("monochrome1.dcm", "e5aa1aa3924ee1e9"),
            ("multiframe.dcm", "d5c52232d85b882"),
            ("palette.dcm", "2d27cd42eed1c325"),
            ("rgb_be.dcm", "281e06580a0625e3"),
            ("rgb_jpeg.dcm", "cc5ce65abd1deaa9"),
            ("rgb_le.dcm", "74250c335ccac25d"),
            ("rle.dcm", "52cbf4a693ec3550"),
            ("u32_be.dcm", "7893222f381ef509"),
            ("u32_le.dcm", "c1b21bb60c5231a7"),
            ("u8.dcm", "3e5d65f99ae07686"),
            ("voi_lut.dcm", "f0a9f605bf227b21"),
            ("ybr_full_422.dcm", "43faa510555d5f11"),
            ("regressions/.keep", "error: empty file (0 bytes)"),
            ("regressions/claims-4000x4000-in-3k.dcm", "error: DICOM: damaged file: the pixel data (3072 bytes) is shorter than one 4000x4000 frame"),
            ("regressions/oom-e7faf479636c45690fd9b25b87cc67b55dbb213a", "error: DICOM: not a readable DICOM file: I/O suspension or premature end of stream"),
            ("regressions/oom-ebaf936bc2df73560f7644e040e7a2cd1533b388", "error: DICOM: unsupported transfer syntax Deflated Explicit VR Little Endian (1.2.840.10008.1.2.1.99): a deflated data set is read whole, trusting every length it claims; convert it with `dcmconv +te`"),
            ("regressions/timeout-9768ff4dc12960ce697207dce402456395f6f57d", "error: DICOM: damaged JPEG data (a TEM marker before the frame header)"),
            ("explicit_le.dcm cut at 0", "error: empty file (0 bytes)"),
            ("explicit_le.dcm cut at 131", "error: not a JPEG, PNG or DICOM file"),
            ("explicit_le.dcm cut at 132", "error: DICOM: not a readable DICOM file: I/O suspension or premature end of stream"),
            ("explicit_le.dcm cut at 140", "error: DICOM: not a readable DICOM file: I/O suspension or premature end of stream"),
            ("explicit_le.dcm cut at 400", "error: DICOM: not a readable DICOM file: I/O suspension or premature end of stream"),
            ("explicit_le.dcm cut at 1000", "error: DICOM: not a readable DICOM file: I/O suspension or premature end of stream"),
            ("explicit_le.dcm cut at 6616", "error: DICOM: not a readable DICOM file: I/O suspension or premature end of stream"),
            ("explicit_le.dcm cut at 6715", "error: DICOM: not a readable DICOM file: I/O suspension or premature end of stream"),
            ("explicit_le.dcm pixel data claiming 4026531840", "error: DICOM: not a readable DICOM file: I/O suspension or premature end of stream"),
            ("explicit_le.dcm pixel data claiming 6146", "error: DICOM: not a readable DICOM file: I/O suspension or premature end of stream"),
            ("explicit_le.dcm then an empty sequence claiming 268435456", "47febd9a38d6d4c8"),
            ("explicit_le.dcm then a sequence and item claiming 268435456", "error: DICOM: not a readable DICOM file: Sequence Delimitation Item missing"),
            ("explicit_le.dcm then a 3840-byte LO", "error: DICOM: not a readable DICOM file: I/O suspension or premature end of stream"),
            ("nested 100", "47febd9a38d6d4c8"),
            ("nested 10000", "error: DICOM: unsupported: sequences nested more than 128 levels deep")
    ]

    /// Issue #23: decoded from memory, every input gives what the file decoder gave: the same values, windows,
    /// renderings and syntax bit for bit (8-, 12-, 16- and 32-bit, 1-bit, MONOCHROME1, colour, VOI LUT, RLE, JPEG,
    /// JPEG-LS), and the same one-line reason for every refusal (deflated, JPEG 2000, cut short, lengths past the end,
    /// nested too deep, the fuzzer's finds). Through bytes, through a path, and through the C file entry point.
    func testMemoryDecodeGivesWhatTheFileDecoderGave() throws {
        let expected = Dictionary(uniqueKeysWithValues: Self.fileDecoderOutcomes)
        let inputs = try everyInput()
        XCTAssertEqual(inputs.map(\.name).sorted(), expected.keys.sorted())
        for (name, data) in inputs {
            XCTAssertEqual(Self.outcome { try ImageDecoder.decode(data: data, name: name) }, expected[name], name)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("memory-\(UUID().uuidString).dcm")
            try data.write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            XCTAssertEqual(Self.outcome { try ImageDecoder.decode(path: file.path) }, expected[name], name)
            // findings.cpp's entry point (the source image of an SR): the file read whole, then the same decoder.
            var fromFile = cdicom_image(), fromMemory = cdicom_image()
            defer { cdicom_free(&fromFile); cdicom_free(&fromMemory) }
            let fileStatus = cdicom_decode_file(file.path, Int64(ImageDecoder.maxPixels), &fromFile)
            let memoryStatus = data.withUnsafeBytes {
                cdicom_decode_memory($0.bindMemory(to: UInt8.self).baseAddress, $0.count, Int64(ImageDecoder.maxPixels), &fromMemory)
            }
            XCTAssertEqual(fileStatus, memoryStatus, name)
            let fileError = withUnsafeBytes(of: &fromFile.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let memoryError = withUnsafeBytes(of: &fromMemory.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            XCTAssertEqual(fileError, memoryError, name)
            XCTAssertEqual([fromFile.width, fromFile.height, fromFile.color], [fromMemory.width, fromMemory.height, fromMemory.color], name)
            let count = Int(fromFile.width) * Int(fromFile.height)
            if let a = fromFile.values, let b = fromMemory.values {
                XCTAssertEqual(memcmp(a, b, count * MemoryLayout<Float>.size), 0, name)
            }
        }
    }

    /// The C file entry point reads at most what the Swift loader does, and only regular files.
    func testFileEntryPointKeepsTheLoadersLimits() throws {
        XCTAssertEqual(Int(CDICOM_MAX_FILE_BYTES), ImageDecoder.maxFileBytes)
        var image = cdicom_image()
        defer { cdicom_free(&image) }
        XCTAssertEqual(cdicom_decode_file(Self.dir.path, Int64(ImageDecoder.maxPixels), &image), -1)
        XCTAssertEqual(withUnsafeBytes(of: &image.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }, "not a regular file")
        let big = FileManager.default.temporaryDirectory.appendingPathComponent("big-\(UUID().uuidString).dcm")
        XCTAssertTrue(FileManager.default.createFile(atPath: big.path, contents: nil))
        defer { try? FileManager.default.removeItem(at: big) }
        XCTAssertEqual(truncate(big.path, off_t(ImageDecoder.maxFileBytes) + 1), 0)   // sparse: nothing is written
        XCTAssertEqual(cdicom_decode_file(big.path, Int64(ImageDecoder.maxPixels), &image), -1)
        XCTAssertEqual(withUnsafeBytes(of: &image.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) },
                       "file too large (268435457 bytes; limit 268435456)")
        XCTAssertEqual(cdicom_decode_file(big.path + ".missing", Int64(ImageDecoder.maxPixels), &image), -1)
        XCTAssertEqual(withUnsafeBytes(of: &image.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }, "cannot open the file")
    }

    /// Issue #23: the refusals that guard DCMTK, now made on the buffer, say what they said for a file, in one line:
    /// a file cut short, a deflated data set (its meta header is read from the buffer first), sequences nested
    /// 10,000 deep (counted on the buffer), and a length field that claims 2.4 GB in 3.8 KB (deferred, so the
    /// claim fails against the end of the buffer instead of being allocated).
    func testDamagedBuffersAreRefusedAsDamagedFilesWere() throws {
        func reason(_ data: Data) -> String {
            do {
                _ = try ImageDecoder.decode(data: data, name: "buffer")
                return "decoded"
            } catch let e as ImageError {
                XCTAssertFalse("\(e)".contains("\n"))
                return e.reason
            } catch {
                return "\(error)"
            }
        }
        let whole = try Data(contentsOf: URL(fileURLWithPath: path("explicit_le.dcm")))
        let premature = "DICOM: not a readable DICOM file: I/O suspension or premature end of stream"
        XCTAssertEqual(reason(whole.prefix(whole.count - 100)), premature)
        XCTAssertEqual(reason(whole.prefix(400)), premature)
        XCTAssertEqual(reason(try Data(contentsOf: URL(fileURLWithPath: path("deflated.dcm")))),
                       "DICOM: unsupported transfer syntax Deflated Explicit VR Little Endian (1.2.840.10008.1.2.1.99): a deflated " +
                       "data set is read whole, trusting every length it claims; convert it with `dcmconv +te`")
        let deep = try nested(10_000)
        defer { try? FileManager.default.removeItem(atPath: deep) }
        XCTAssertEqual(reason(try Data(contentsOf: URL(fileURLWithPath: deep))), "DICOM: unsupported: sequences nested more than 128 levels deep")
        let regressions = Self.dir.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz/regressions/dicom")
        let claim = try Data(contentsOf: regressions.appendingPathComponent("oom-e7faf479636c45690fd9b25b87cc67b55dbb213a"))
        XCTAssertEqual(reason(claim), premature)   // undeferred, DCMTK allocates the 2.4 GB and says "Invalid stream"
        // A slice of a larger buffer (what `prefix` and a PACS multipart part give) is decoded from its own start.
        var padded = Data(repeating: 0x55, count: 7)
        padded.append(whole)
        XCTAssertEqual(try ImageDecoder.decode(data: padded.dropFirst(7), name: "slice").pixels,
                       try ImageDecoder.decode(data: whole, name: "whole").pixels)
    }

    /// Issue #23: DICOM bytes are decoded where they are, never through a temporary copy. NSTemporaryDirectory()
    /// follows TMPDIR (where the copy used to go): pointed at a folder that does not exist, inside an empty one, a
    /// copy could not be written (not even by root), so every fixture still decodes and the empty folder stays empty.
    func testDecodingBytesNeedsNoTemporaryFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dicom-no-tmp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let inputs = try ["explicit_le.dcm", "implicit_le.dcm", "jpeg_baseline.dcm", "jpegls_lossless.dcm", "rle.dcm", "rgb_le.dcm",
                          "monochrome1.dcm", "voi_lut.dcm"].map { ($0, try Data(contentsOf: URL(fileURLWithPath: path($0)))) }
        let before = getenv("TMPDIR").map { String(cString: $0) }
        setenv("TMPDIR", folder.appendingPathComponent("missing").path, 1)
        defer { if let before { setenv("TMPDIR", before, 1) } else { unsetenv("TMPDIR") } }
        XCTAssertTrue(NSTemporaryDirectory().hasPrefix(folder.appendingPathComponent("missing").path), NSTemporaryDirectory())
        for (name, data) in inputs {
            XCTAssertNoThrow(try ImageDecoder.decode(data: data, name: name), name)
            XCTAssertNoThrow(try DicomDecoder.decode(data: data, name: name), name)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
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
        // when reading from DCMTK's buffer stream; the shim's stream defers large elements, as a file stream does, and
        // sees the end of the buffer first), and a
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
