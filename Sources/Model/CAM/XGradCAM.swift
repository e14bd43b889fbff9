extension CAMMethod {
    /// XGrad-CAM (Fu et al., BMVC 2020): weights = Σ_i G·F / (Σ_i F + 1e-7).
    public static let xGradCAM = CAMMethod(
        id: "xgradcam", title: "XGrad-CAM", reference: "Fu et al., Axiom-based Grad-CAM, BMVC 2020",
        rawMap: { inputs in
            let sumGF = inputs.sumOverPositions { g, f in g * f }
            return inputs.weightedSum(zip(sumGF, inputs.featureSums).map { $0 / ($1 + 1e-7) })
        })
}
