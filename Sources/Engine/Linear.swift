/// A fully connected layer y = W·x + b, W stored [outFeatures, inFeatures] as in PyTorch.
public final class Linear {
    public let inFeatures: Int
    public let outFeatures: Int
    public private(set) var weight: [Float]
    public private(set) var bias: [Float]
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

    /// y[rows, out] = act(x[rows, in]·Wᵀ + b).
    public func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        weight.withUnsafeBufferPointer { w in
            if rows == 1 {
                MatrixVector.multiply(m: outFeatures, n: inFeatures, a: w.baseAddress!, x: x, y: y)
            } else {
                BLAS.gemmTransB(m: rows, n: outFeatures, k: inFeatures, a: x, b: w.baseAddress!, c: y)
            }
        }
        for r in 0..<rows {
            let row = y + r * outFeatures
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

    /// Gradient wrt the input for one row: dx = Wᵀ·dy (activation not included).
    public func backward(outputGradient dy: [Float]) -> [Float] {
        precondition(dy.count == outFeatures)
        var dx = [Float](repeating: 0, count: inFeatures)
        weight.withUnsafeBufferPointer { w in
            dy.withUnsafeBufferPointer { d in
                dx.withUnsafeMutableBufferPointer {
                    MatrixVector.multiply(transposed: true, m: outFeatures, n: inFeatures, a: w.baseAddress!,
                                          x: d.baseAddress!, y: $0.baseAddress!)
                }
            }
        }
        return dx
    }

    /// Multiplies each output's weights and bias by scale and adds shift (folding a following BatchNorm1d).
    public func scaleOutputs(scale: [Float], shift: [Float]) {
        for o in 0..<outFeatures {
            for i in 0..<inFeatures { weight[o * inFeatures + i] *= scale[o] }
            bias[o] = bias[o] * scale[o] + shift[o]
        }
    }
}
