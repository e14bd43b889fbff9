extension CAMMethod {
    /// HiResCAM (Draelos & Carin, 2020): Σ_c G·F position by position, with no spatial averaging of G, so the map
    /// shows exactly the positions that raised the logit.
    public static let hiResCAM = CAMMethod(
        id: "hirescam", title: "HiResCAM", reference: "Draelos & Carin, HiResCAM, arXiv:2011.08891",
        rawMap: { $0.sumOverChannels { g, f in g * f } })
}
