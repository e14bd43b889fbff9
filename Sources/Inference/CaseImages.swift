import Foundation
import Datasets
import Imaging

/// The decoded images of a split's cases, read through their `CaseSource`. A case the reviewer is near is decoded
/// once, by whoever needs it first: the inference runner (for the model's input, from the bytes it already read and
/// hashed) or the screen (in the background); the other one then waits for that decode instead of starting its own.
/// Images are kept for the cases around the reviewer (`focus`), and for at most `capacity` others holding at most
/// `byteLimit` bytes, most recently used first, so memory stays bounded whatever the split's size and its images'
/// (a 3000×3000 DICOM holds about 60 MB decoded). The runner's decodes of cases the reviewer is not near are not
/// kept at all.
public final class CaseImages: @unchecked Sendable {
    /// A stand-in for the source and Imaging's decoder (the tests' counting decoders): a case's path (its bytes when
    /// the caller has them already) to pixels, or a one-line reason.
    public typealias Decoder = @Sendable (_ path: String, _ bytes: Data?) -> Result<RGBImage, ImageError>

    public let source: CaseSource
    public var paths: [String] { source.cases.map(\.imagePath) }
    private let decoder: Decoder?
    private let capacity: Int
    private let byteLimit: Int
    private let condition = NSCondition()
    private var cache: [Int: Result<RGBImage, ImageError>] = [:]
    /// Least recently used first.
    private var recency: [Int] = []
    private var decoding: Set<Int> = []
    private var focused: ClosedRange<Int> = 0...0
    private var decodes = 0
    private let queue = DispatchQueue(label: "fracview.images", qos: .userInitiated)
    /// Called (on a background thread) whenever an image becomes available.
    public var onLoaded: (@Sendable () -> Void)?

    /// Images read from the source and decoded by Imaging (JPEG, PNG, DICOM).
    public init(source: CaseSource, capacity: Int = CaseImages.defaultCapacity, byteLimit: Int = CaseImages.defaultByteLimit) {
        self.source = source
        self.count = source.cases.count
        self.capacity = max(1, capacity)
        self.byteLimit = max(0, byteLimit)
        self.decoder = nil
    }

    /// Files by path: read through the guarded reader, decoded by `decoder` when given, else by Imaging.
    public init(paths: [String], capacity: Int = CaseImages.defaultCapacity, byteLimit: Int = CaseImages.defaultByteLimit, decoder: Decoder? = nil) {
        self.source = FolderCaseSource(paths: paths)
        self.count = paths.count
        self.capacity = max(1, capacity)
        self.byteLimit = max(0, byteLimit)
        self.decoder = decoder
    }

    /// The cases the reviewer has left that stay decoded (the neighbourhood is always kept): ← through the last
    /// dozen needs no decode. About 15 MB of the sample's 640×640 JPEGs.
    public static let defaultCapacity = 12

    /// The images outside the reviewer's neighbourhood may hold this much (the neighbourhood is always kept).
    public static let defaultByteLimit = 192 << 20

    /// The bytes a decoded image holds: its pixels and, for DICOM, its stored values and renderings.
    static func byteCount(_ result: Result<RGBImage, ImageError>) -> Int {
        guard case .success(let image) = result else { return 0 }
        var bytes = image.pixels.count
        if let source = image.source {
            bytes += source.values.count * MemoryLayout<Float>.size
            bytes += (source.color?.pixels.count ?? 0) + (source.voiLUTRendering?.pixels.count ?? 0)
        }
        return bytes
    }

    public let count: Int

    /// Reads (unless the caller did) and decodes case `index`.
    private func decode(_ index: Int, _ loaded: (data: Data, file: String)?) -> Result<RGBImage, ImageError> {
        let kase = source.cases[index]
        if let decoder { return decoder(kase.imagePath, loaded?.data) }
        let name = kase.displayName ?? kase.imagePath
        do {
            let bytes = try loaded ?? source.bytes(of: index)
            return .success(try ImageDecoder.decode(data: bytes.data, name: name))
        } catch let e as ImageError {
            return .failure(e)
        } catch {
            return .failure(ImageError(path: name, reason: "\(error)"))
        }
    }

    /// How many decodes ran (the tests' check that no case is decoded twice).
    public var decodeCount: Int { condition.lock(); defer { condition.unlock() }; return decodes }

    /// The image if decoded already; never blocks, never decodes.
    public func cached(_ index: Int) -> Result<RGBImage, ImageError>? {
        condition.lock(); defer { condition.unlock() }
        if cache[index] != nil { touch(index) }
        return cache[index]
    }

    /// The image, decoded on the calling thread unless it is cached or another thread is decoding it already (then
    /// this one waits for that result). `loaded`: the case's bytes and file, when the caller has read them.
    /// `keepingOutsideFocus` false (the inference runner, walking the whole split): a case outside the reviewer's
    /// neighbourhood is decoded for this caller only and not kept. Kept, the runner's decodes filled the cache
    /// with cases the reviewer had not reached (29 MB of the sample's JPEGs, up to `byteLimit` of DICOMs) and
    /// pushed out the ones they had seen.
    public func image(_ index: Int, loaded: (data: Data, file: String)? = nil,
                      keepingOutsideFocus: Bool = true) -> Result<RGBImage, ImageError> {
        guard (0..<count).contains(index) else {
            return .failure(ImageError(path: "case \(index)", reason: "no such case"))
        }
        condition.lock()
        while true {
            if let hit = cache[index] { touch(index); condition.unlock(); return hit }
            if !decoding.contains(index) { break }
            condition.wait()
        }
        decoding.insert(index)
        decodes += 1
        condition.unlock()
        let result = decode(index, loaded)
        condition.lock()
        decoding.remove(index)
        let keep = keepingOutsideFocus || focused.contains(index)
        if keep {
            cache[index] = result
            touch(index)
            evict()
        }
        condition.broadcast()
        condition.unlock()
        if keep { onLoaded?() }
        return result
    }

    /// For the screen: the image if it is ready within `wait` seconds, else nil (it keeps decoding in the
    /// background, and `onLoaded` says when it is there). Drawing only reads: the screen's thread never decodes,
    /// and what is decoded is decided by `focus` (the review loop calls it when the case changes).
    public func image(_ index: Int, waitingAtMost wait: TimeInterval) -> Result<RGBImage, ImageError>? {
        if let hit = cached(index) { return hit }
        let deadline = Date().addingTimeInterval(wait)
        condition.lock(); defer { condition.unlock() }
        while cache[index] == nil {
            if !condition.wait(until: deadline) { break }
        }
        if cache[index] != nil { touch(index) }
        return cache[index]
    }

    /// The reviewer is at `index`: keep it and its neighbours, and decode it, then the neighbours, in the
    /// background.
    public func focus(_ index: Int) {
        condition.lock()
        focused = (index - 2)...(index + 2)
        condition.unlock()
        source.focus(index)
        for i in [index, index + 1, index - 1, index + 2] { request(i) }
    }

    /// Decodes in the background unless cached or being decoded.
    private func request(_ index: Int) {
        guard (0..<count).contains(index) else { return }
        condition.lock()
        let needed = cache[index] == nil && !decoding.contains(index)
        condition.unlock()
        if needed { queue.async { [weak self] in _ = self?.image(index) } }
    }

    /// Call with the lock held.
    private func touch(_ index: Int) {
        if let at = recency.lastIndex(of: index) { recency.remove(at: at) }
        recency.append(index)
    }

    /// Call with the lock held: drops the least recently used images outside the focus while there are more than
    /// `capacity` of them or they hold more than `byteLimit` bytes.
    private func evict() {
        let outside = cache.filter { !focused.contains($0.key) }
        var excess = outside.count - capacity
        var bytes = outside.values.reduce(0) { $0 + CaseImages.byteCount($1) }
        var i = 0
        while (excess > 0 || bytes > byteLimit) && i < recency.count {
            let candidate = recency[i]
            if focused.contains(candidate) || cache[candidate] == nil { i += 1; continue }
            recency.remove(at: i)
            bytes -= CaseImages.byteCount(cache.removeValue(forKey: candidate)!)
            excess -= 1
        }
    }
}
