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
            let gram = centred.withUnsafeBufferPointer { GramMatrix.of($0.baseAddress!, rows: n, columns: c) }
            guard var u = BLAS.topEigenvector(of: gram, n: n) else { return [Float](repeating: 0, count: n) }
            // s₁ is left out: it scales the map, which is then divided by its maximum.
            if abs(u.min() ?? 0) > abs(u.max() ?? 0) { u = u.map { -$0 } }
            return u
        })
}
