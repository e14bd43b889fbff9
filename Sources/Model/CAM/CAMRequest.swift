/// Which CAM maps a forward pass should make (the registry's methods, by value): none for scores alone
/// (`evaluate`'s metrics, `bench`'s forward timing), all for the screen (it cycles through them instantly and the
/// cache keeps them), or just the ones a command prints.
public struct CAMRequest: Sendable, Equatable {
    /// In the registry's order, without repeats.
    public let methods: [CAMMethod]

    public init(_ methods: [CAMMethod]) {
        var seen = Set<CAMMethod>()
        self.methods = CAMMethod.all.filter { methods.contains($0) } + methods.filter { !CAMMethod.all.contains($0) }
            .filter { seen.insert($0).inserted }
    }

    public static let none = CAMRequest([])
    public static let all = CAMRequest(CAMMethod.all)

    public var isEmpty: Bool { methods.isEmpty }
}
