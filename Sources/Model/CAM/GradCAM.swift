extension CAMMethod {
    /// Grad-CAM (Selvaraju et al., ICCV 2017), the notebook's: channel weights are the spatial mean of G, the map is
    /// the channel mean of F·weights (the notebook divides by C where the library sums: the same map once scaled).
    public static let gradCAM = CAMMethod(
        id: "gradcam", title: "Grad-CAM", reference: "Selvaraju et al., Grad-CAM, ICCV 2017",
        rawMap: { inputs in
            let c = Float(inputs.channels)
            return inputs.weightedSum(inputs.meanGradient()).map { $0 / c }
        })
}
