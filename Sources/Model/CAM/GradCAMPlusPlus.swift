extension CAMMethod {
    /// Grad-CAM++ (Chattopadhyay et al., WACV 2018), with first-order gradients as pytorch-grad-cam computes it:
    /// α = G² / (2G² + Σ_i F·G³ + 1e-6) where G ≠ 0, weights = Σ_i α·ReLU(G).
    public static let gradCAMPlusPlus = CAMMethod(
        id: "gradcam++", title: "Grad-CAM++", reference: "Chattopadhyay et al., Grad-CAM++, WACV 2018",
        rawMap: { inputs in
            let sumF = inputs.featureSums
            var weights = [Float](repeating: 0, count: inputs.channels)
            for i in 0..<inputs.positions {
                for c in 0..<inputs.channels where inputs.gradient[i * inputs.channels + c] != 0 {
                    let g = inputs.gradient[i * inputs.channels + c]
                    let g2 = g * g
                    let alpha = g2 / (2 * g2 + sumF[c] * g2 * g + 1e-6)
                    weights[c] += alpha * max(g, 0)
                }
            }
            return inputs.weightedSum(weights)
        })
}
