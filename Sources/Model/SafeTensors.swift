import Foundation

/// Element types a safetensors file may hold; the engine computes in F32 and widens F16/BF16 on load.
public enum SafeTensorsDType: String, Sendable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16"
    case f64 = "F64", i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

    public var byteSize: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .i8, .u8, .bool: return 1
        }
    }

    /// Whether `floats` can read it.
    public var isFloat: Bool { self == .f32 || self == .f16 || self == .bf16 }
}

/// One tensor's header entry; `offset` is absolute in the file.
public struct SafeTensorsEntry: Sendable {
    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    public let offset: Int
    public let byteCount: Int
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A safetensors file mapped read-only into memory (https://github.com/huggingface/safetensors: 8-byte
/// little-endian header length, a JSON header, then the raw data). Tensors are read straight from the
/// mapping, so loading never holds a second full copy of the file; the mapping goes away with this object.
public final class SafeTensorsFile {
    public let path: String
    /// `__metadata__`, string to string as the format requires.
    public let metadata: [String: String]
    /// Entries in file order (by offset).
    public let entries: [SafeTensorsEntry]
    private let index: [String: Int]
    private let base: UnsafeMutableRawPointer?
    public let fileSize: Int

    public init(path: String) throws {
        self.path = path
        func fail(_ reason: String) -> WeightsError { WeightsError(path: path, reason: reason) }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw fail("no such file") }
        guard !isDir.boolValue else { throw fail("is a directory, not a .safetensors file") }
        // open() on a FIFO blocks until a writer appears, and a device never ends: regular files only (links followed).
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        if let type = (try? FileManager.default.attributesOfItem(atPath: resolved))?[.type] as? FileAttributeType,
           type != .typeRegular {
            throw fail("not a regular file")
        }
        let fd = open(path, O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else { throw fail("cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw fail("cannot stat: \(String(cString: strerror(errno)))") }
        fileSize = Int(st.st_size)
        guard fileSize >= 8 else {
            throw fail("truncated safetensors file: \(fileSize) bytes, shorter than the 8-byte header length")
        }
        guard let p = mmap(nil, fileSize, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw fail("cannot map the file: \(String(cString: strerror(errno)))")
        }
        base = p
        do {
            (metadata, entries) = try SafeTensorsFile.parseHeader(UnsafeRawBufferPointer(start: p, count: fileSize), fail: fail)
        } catch {
            munmap(p, fileSize)
            throw error
        }
        index = Dictionary(entries.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    deinit { if let base { munmap(base, fileSize) } }

    public func entry(_ name: String) -> SafeTensorsEntry? { index[name].map { entries[$0] } }

    /// The whole file's bytes (valid while this object lives).
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: fileSize) }

    /// Copies a tensor into `destination` as Float32, widening F16/BF16.
    public func read(_ entry: SafeTensorsEntry, into destination: UnsafeMutablePointer<Float>) {
        let src = UnsafeRawPointer(base!) + entry.offset
        let n = entry.elementCount
        switch entry.dtype {
        case .f32:
            memcpy(destination, src, n * 4)
        case .f16:
            for i in 0..<n { destination[i] = halfToFloat(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        case .bf16:
            for i in 0..<n {
                destination[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
            }
        default:
            preconditionFailure("SafeTensorsFile.read: \(entry.dtype) is not a float type")
        }
    }

    /// A tensor as Float32; throws when absent or not a float type.
    public func floats(_ name: String) throws -> [Float] {
        guard let e = entry(name) else { throw WeightsError(path: path, reason: "missing tensor \(name)") }
        guard e.dtype.isFloat else {
            throw WeightsError(path: path, reason: "tensor \(name) has dtype \(e.dtype.rawValue), expected F32, F16 or BF16")
        }
        return [Float](unsafeUninitializedCapacity: e.elementCount) { buf, count in
            if e.elementCount > 0 { read(e, into: buf.baseAddress!) }
            count = e.elementCount
        }
    }

    private static func parseHeader(_ file: UnsafeRawBufferPointer, fail: (String) -> WeightsError) throws
        -> ([String: String], [SafeTensorsEntry]) {
        let headerLength = UInt64(littleEndian: file.loadUnaligned(as: UInt64.self))
        // The format's own limit (the reference implementation refuses larger headers): a header is JSON text
        // parsed whole, so its size bounds the parser's memory.
        guard headerLength <= 100_000_000 else {
            throw fail("corrupt safetensors header: \(headerLength) bytes, over the format's 100 MB limit")
        }
        guard headerLength <= UInt64(file.count - 8) else {
            throw fail("truncated or corrupt safetensors file: header length \(headerLength) exceeds the \(file.count)-byte file")
        }
        let dataStart = 8 + Int(headerLength)
        let headerBytes = Data(file[8..<dataStart])
        guard let json = try? JSONSerialization.jsonObject(with: headerBytes), let header = json as? [String: Any] else {
            throw fail("corrupt safetensors header: not a JSON object")
        }
        var metadata = [String: String]()
        if let meta = header["__metadata__"] {
            guard let dict = meta as? [String: Any] else { throw fail("corrupt safetensors header: __metadata__ is not an object") }
            // Keys in a fixed order, so the same damaged file always gives the same first error.
            for (k, v) in dict.sorted(by: { $0.key < $1.key }) {
                guard let s = v as? String else { throw fail("corrupt safetensors header: __metadata__ value for \(k) is not a string") }
                metadata[k] = s
            }
        }
        var entries = [SafeTensorsEntry]()
        for (name, value) in header.sorted(by: { $0.key < $1.key }) where name != "__metadata__" {
            guard let obj = value as? [String: Any] else { throw fail("corrupt safetensors header: entry \(name) is not an object") }
            guard let dt = obj["dtype"] as? String else { throw fail("tensor \(name): missing dtype") }
            guard let dtype = SafeTensorsDType(rawValue: dt) else { throw fail("tensor \(name): unsupported dtype \(dt)") }
            guard let shapeAny = obj["shape"] as? [Any], let shape = intArray(shapeAny), shape.allSatisfy({ $0 >= 0 }) else {
                throw fail("tensor \(name): shape is not a list of sizes")
            }
            guard let offAny = obj["data_offsets"] as? [Any], let offs = intArray(offAny), offs.count == 2,
                  offs[0] >= 0, offs[1] >= offs[0] else {
                throw fail("tensor \(name): data_offsets is not [begin, end]")
            }
            // Sizes that overflow (a shape of [2^62] F16 is 2^63 bytes) are refused, never trapped on.
            var count = 1, overflow = false
            for d in shape {
                let (m, o) = count.multipliedReportingOverflow(by: d)
                count = m; overflow = overflow || o
            }
            let (bytes, o2) = count.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, !o2 else { throw fail("tensor \(name): shape \(shape) is too large") }
            let byteCount = offs[1] - offs[0]
            guard byteCount == bytes else {
                throw fail("tensor \(name): \(byteCount) data bytes for shape \(shape) of \(dt)")
            }
            guard offs[1] <= file.count - dataStart else {
                throw fail("truncated safetensors file: tensor \(name) ends at byte \(dataStart + offs[1]) of a \(file.count)-byte file")
            }
            entries.append(SafeTensorsEntry(name: name, dtype: dtype, shape: shape, offset: dataStart + offs[0], byteCount: byteCount))
        }
        entries.sort { ($0.offset, $0.name) < ($1.offset, $1.name) }
        // Two tensors sharing bytes is no file the format's writers make: one of them would read the other's data.
        for (a, b) in zip(entries, entries.dropFirst()) where a.byteCount > 0 && b.byteCount > 0 && b.offset < a.offset + a.byteCount {
            throw fail("corrupt safetensors header: tensors \(a.name) and \(b.name) overlap")
        }
        return (metadata, entries)
    }

    /// Non-negative integers that fit an Int exactly; a value of 2^64 or more (which NSNumber would wrap to a
    /// small number, silently reading the wrong bytes) or a fraction makes the whole array invalid.
    private static func intArray(_ values: [Any]) -> [Int]? {
        var out = [Int]()
        for v in values {
            guard let n = v as? NSNumber else { return nil }
            let d = n.doubleValue
            guard d.isFinite, d == d.rounded(), abs(d) < 9.0e18 else { return nil }
            out.append(Int(n.int64Value))
        }
        return out
    }
}

/// IEEE 754 binary16 → binary32, subnormals, infinities and NaN included.
@inline(__always)
public func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exp = UInt32(h >> 10) & 0x1F
    let mant = UInt32(h & 0x3FF)
    if exp == 0 {
        // ±0 or subnormal: mant · 2^-24
        let v = Float(mant) * (1.0 / 16_777_216.0)
        return sign != 0 ? -v : v
    }
    if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
    return Float(bitPattern: sign | ((exp + 112) << 23) | (mant << 13))
}

/// binary32 → binary16, round to nearest even (for writing F16 files).
public func floatToHalf(_ f: Float) -> UInt16 {
    let bits = f.bitPattern
    let sign = UInt16((bits >> 16) & 0x8000)
    let exp = Int((bits >> 23) & 0xFF)
    var mant = bits & 0x7F_FFFF
    if exp == 0xFF { return sign | 0x7C00 | (mant != 0 ? 0x200 : 0) }
    let e = exp - 127 + 15
    if e >= 31 { return sign | 0x7C00 }
    if e <= 0 {
        if e < -10 { return sign }
        mant |= 0x80_0000
        let shift = UInt32(14 - e)
        var half = mant >> shift
        let rem = mant & ((1 << shift) - 1), halfway = UInt32(1) << (shift - 1)
        if rem > halfway || (rem == halfway && (half & 1) == 1) { half += 1 }
        return sign | UInt16(half)
    }
    var half = UInt32(e << 10) | (mant >> 13)
    let rem = mant & 0x1FFF
    if rem > 0x1000 || (rem == 0x1000 && (half & 1) == 1) { half += 1 }
    return sign | UInt16(truncatingIfNeeded: half)
}

/// binary32 → bfloat16, round to nearest even.
public func floatToBFloat16(_ f: Float) -> UInt16 {
    let bits = f.bitPattern
    if f.isNaN { return UInt16(bits >> 16) | 0x40 }
    let rounding = 0x7FFF + ((bits >> 16) & 1)
    return UInt16((bits &+ rounding) >> 16)
}
