extension CAMMethod {
    /// LayerCAM (Jiang et al., IEEE TIP 2021): Σ_c ReLU(G)·F position by position.
    public static let layerCAM = CAMMethod(
        id: "layercam", title: "LayerCAM", reference: "Jiang et al., LayerCAM, IEEE TIP 2021",
        rawMap: { $0.sumOverChannels { g, f in max(g, 0) * f } })
}
