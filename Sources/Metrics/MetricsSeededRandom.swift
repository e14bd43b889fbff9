/// SplitMix64: a tiny, fully specified generator, so bootstrap resamples are identical on every platform and
/// reproducible from Python (Tests/Fixtures/review/make_metrics_fixture.py implements the same steps).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    /// An index in 0..<n (plain modulo: the bias is below 1e-16 for our n, and it keeps the Python twin simple).
    public mutating func index(below n: Int) -> Int { Int(next() % UInt64(n)) }
}
