import CEngineKernels

/// The allocator policy every command runs under (set once, first thing in `main`).
public enum ProcessMemory {
    /// Blocks this large or larger (a decoded X-ray, a model input, a crop) go straight back to the system when
    /// freed. The per-forward blocks (a 7×7×1280 feature map: 250 KB) stay below it, so the engine's hot path
    /// makes no system calls.
    public static let mmapThreshold = 512 << 10

    /// See `fv_fix_mmap_threshold`: without it, glibc's rising threshold left each freed image's hole resident
    /// (the review process peaked 20 MB higher). True when the allocator took the setting; false when the user's
    /// `MALLOC_MMAP_THRESHOLD_` is left to rule.
    @discardableResult
    public static func returnLargeBlocksWhenFreed() -> Bool {
        fv_fix_mmap_threshold(mmapThreshold) == 1
    }
}
