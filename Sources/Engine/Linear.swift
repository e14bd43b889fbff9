import CEngineKernels

/// A fully connected layer y = W·x + b, W stored [outFeatures, inFeatures] as in PyTorch.
public final class Linear {
    public let inFeatures: Int
    public let outFeatures: Int
    /// The weights as loaded; empty once `keepHalfPrecision` moved them into `halfWeight`.
    public private(set) var weight: [Float]
    /// The weights as IEEE half-precision bit patterns (`keepHalfPrecision`), else empty.
    public private(set) var halfWeight: [UInt16] = []
    public private(set) var bias: [Float]
    /// Per-output factors applied to W·x before the bias: a following batch norm's scale (`scaleOutputs`), kept out
    /// of the weights so that F16 weights stay exact in half precision. Empty: none.
    public private(set) var outputScale: [Float] = []
    public var activation: Activation

    public init(inFeatures: Int, outFeatures: Int, weight: [Float], bias: [Float]? = nil,
                activation: Activation = .identity) {
        precondition(weight.count == inFeatures * outFeatures, "Linear: weight size")
        precondition(bias == nil || bias!.count == outFeatures, "Linear: bias size")
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
        self.weight = weight
        self.bias = bias ?? [Float](repeating: 0, count: outFeatures)
        self.activation = activation
    }

    /// Keeps the weights in half precision when every one of them is exact there (an F16 file's) and the kernels
    /// widen in hardware (`HalfPrecision.widenedInHardware`): the same products from half the memory. Returns whether
    /// it did.
    @discardableResult
    public func keepHalfPrecision() -> Bool {
        guard halfWeight.isEmpty, HalfPrecision.widenedInHardware, let halves = HalfPrecision.exactBits(weight) else {
            return !halfWeight.isEmpty
        }
        halfWeight = halves
        weight = []
        return true
    }

    /// The weights as the matrix-vector kernels take them.
    func withMatrix<R>(_ body: (fv_matrix) -> R) -> R {
        if !halfWeight.isEmpty {
            return halfWeight.withUnsafeBufferPointer { body(fv_matrix(f32: nil, f16: $0.baseAddress)) }
        }
        return weight.withUnsafeBufferPointer { body(fv_matrix(f32: $0.baseAddress, f16: nil)) }
    }

    /// y[rows, out] = act(scale ⊙ (x[rows, in]·Wᵀ) + b).
    public func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        withMatrix { w in
            for r in 0..<rows {
                MatrixVector.multiply(m: outFeatures, n: inFeatures, matrix: w, x: x + r * inFeatures, y: y + r * outFeatures)
            }
        }
        for r in 0..<rows {
            let row = y + r * outFeatures
            if !outputScale.isEmpty { for o in 0..<outFeatures { row[o] *= outputScale[o] } }
            for o in 0..<outFeatures { row[o] = activation(row[o] + bias[o]) }
        }
    }

    public func callAsFunction(_ x: [Float]) -> [Float] {
        precondition(x.count % inFeatures == 0, "Linear: input size")
        let rows = x.count / inFeatures
        var y = [Float](repeating: 0, count: rows * outFeatures)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { forward(xp.baseAddress!, rows: rows, into: $0.baseAddress!) } }
        return y
    }

    /// Gradient wrt the input for one row: dx = Wᵀ·(scale ⊙ dy) (activation not included).
    public func backward(outputGradient dy: [Float]) -> [Float] {
        precondition(dy.count == outFeatures)
        let scaled = outputScale.isEmpty ? dy : zip(dy, outputScale).map { $0 * $1 }
        var dx = [Float](repeating: 0, count: inFeatures)
        withMatrix { w in
            scaled.withUnsafeBufferPointer { d in
                dx.withUnsafeMutableBufferPointer {
                    MatrixVector.multiply(transposed: true, m: outFeatures, n: inFeatures, matrix: w,
                                          x: d.baseAddress!, y: $0.baseAddress!)
                }
            }
        }
        return dx
    }

    /// Folds a following per-output affine map (a BatchNorm1d): the scale into `outputScale`, the bias scaled and
    /// shifted. The weights stay as loaded.
    public func scaleOutputs(scale: [Float], shift: [Float]) {
        precondition(scale.count == outFeatures && shift.count == outFeatures)
        outputScale = outputScale.isEmpty ? scale : zip(outputScale, scale).map { $0 * $1 }
        for o in 0..<outFeatures { bias[o] = bias[o] * scale[o] + shift[o] }
    }
}
