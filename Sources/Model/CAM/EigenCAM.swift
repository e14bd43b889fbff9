import Engine

extension CAMMethod {
    /// EigenCAM (Muhammad & Yeasin, IJCNN 2020): F, centred per channel, projected on its first principal
    /// component; no gradient, so it does not depend on the class. An SVD's sign is arbitrary, so the sign is fixed
    /// as pytorch-grad-cam's `get_2d_projection_with_sign_correction` fixes it (Chung & Ying, Seg-Eigen-CAM, 2025,
    /// Eq. 13): flipped when |min| > |max|. The projection F_c·v₁ equals s₁·u₁, u₁ being the top eigenvector of the
    /// small hw×hw matrix F_c·F_cᵀ, which is what is solved
    /// (s₁ only scales the map).
    public static let eigenCAM = CAMMethod(
        id: "eigencam", title: "EigenCAM", reference: "Muhammad & Yeasin, Eigen-CAM, IJCNN 2020",
        rawMap: { inputs in
            let n = inputs.positions, c = inputs.channels
            var centred = [Float](repeating: 0, count: n * c)
            let mean = inputs.featureSums.map { $0 / Float(n) }
            for i in 0..<n { for k in 0..<c { centred[i * c + k] = inputs.features[i * c + k] - mean[k] } }
            // F_c·F_cᵀ on the engine's packed kernels: F_c's rows as the weights of a 1×1 conv with n outputs, run on
            // F_c itself (OpenBLAS's sgemm ran its OPENBLAS_CORETYPE kernels here, SSE3 under Prescott).
            let gram = Conv2d(inChannels: c, outChannels: n, kernelSize: 1, weight: centred)
            gram.prepareChannelsLast(keepingNCHW: false, halfPanels: false)
            let products = Tensor(shape: [1, n, 1, n])
            gram.forwardChannelsLast(Tensor(shape: [1, n, 1, c], values: centred), into: products, workspace: Workspace())
            guard var u = BLAS.topEigenvector(of: products.values, n: n) else { return [Float](repeating: 0, count: n) }
            // s₁ is left out: it scales the map, which is then divided by its maximum.
            if abs(u.min() ?? 0) > abs(u.max() ?? 0) { u = u.map { -$0 } }
            return u
        })
}
