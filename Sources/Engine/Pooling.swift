/// Global average pooling: [N, C, H, W] → [N, C]; sums in Float with a per-plane pairwise-free loop, as PyTorch does.
public func globalAveragePool(_ x: UnsafePointer<Float>, channels: Int, plane: Int, into y: UnsafeMutablePointer<Float>) {
    let inv = 1 / Float(plane)
    for c in 0..<channels {
        let p = x + c * plane
        var s: Float = 0
        for i in 0..<plane { s += p[i] }
        y[c] = s * inv
    }
}

public func globalAveragePool(_ x: Tensor) -> [Float] {
    let (n, c, h, w) = x.nchw
    var y = [Float](repeating: 0, count: n * c)
    y.withUnsafeMutableBufferPointer { yp in
        for b in 0..<n { globalAveragePool(x.data + b * c * h * w, channels: c, plane: h * w, into: yp.baseAddress! + b * c) }
    }
    return y
}
