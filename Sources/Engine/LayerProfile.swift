import Dispatch

/// Per-layer timings for `fracview bench --layers`: each op records its kind, shape, wall time and FLOPs while
/// profiling is on. Off (the default) it costs one branch per op. Single-threaded use only (the bench's caller).
public enum LayerProfile {
    public struct Record: Sendable {
        /// e.g. "pointwise", "depthwise 3×3/1", "conv 3×3/2", "se".
        public let op: String
        /// "Cin→Cout HxW" of the output.
        public let shape: String
        public let flops: Double
        public let nanoseconds: UInt64
        @usableFromInline init(op: String, shape: String, flops: Double, nanoseconds: UInt64) {
            self.op = op; self.shape = shape; self.flops = flops; self.nanoseconds = nanoseconds
        }
    }

    nonisolated(unsafe) public private(set) static var isEnabled = false
    nonisolated(unsafe) public private(set) static var records: [Record] = []
    /// Ops inside a measured op (the head's convs inside "head") are not recorded on their own.
    @usableFromInline nonisolated(unsafe) static var depth = 0

    public static func start() { records = []; depth = 0; isEnabled = true }

    /// Stops recording and returns what was recorded since `start`.
    public static func stop() -> [Record] { isEnabled = false; return records }

    /// Runs `body`, recording it when profiling is on.
    @inlinable
    public static func measure(_ op: @autoclosure () -> String, _ shape: @autoclosure () -> String,
                               flops: @autoclosure () -> Double, _ body: () -> Void) {
        guard isEnabled && depth == 0 else { return body() }
        depth += 1
        let t = DispatchTime.now().uptimeNanoseconds
        body()
        let elapsed = DispatchTime.now().uptimeNanoseconds - t  // before the names are formatted
        depth -= 1
        append(Record(op: op(), shape: shape(), flops: flops(), nanoseconds: elapsed))
    }

    @usableFromInline static func append(_ r: Record) { records.append(r) }
}
