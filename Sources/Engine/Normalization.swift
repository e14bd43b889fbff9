/// Batch normalisation in eval mode: y = (x − mean) / sqrt(var + eps) · gamma + beta, per channel.
///
/// For inference it is folded into the preceding conv or linear layer (`scaleShift` gives the per-channel
/// affine map), so it costs nothing at run time; `apply` exists for BatchNorm1d tests and unfused use.
public struct BatchNorm: Sendable {
    public let gamma: [Float], beta: [Float], runningMean: [Float], runningVar: [Float]
    public let eps: Float

    public init(gamma: [Float], beta: [Float], runningMean: [Float], runningVar: [Float], eps: Float) {
        precondition(gamma.count == beta.count && beta.count == runningMean.count && runningMean.count == runningVar.count)
        self.gamma = gamma; self.beta = beta; self.runningMean = runningMean; self.runningVar = runningVar; self.eps = eps
    }

    public var channels: Int { gamma.count }

    /// (scale, shift) with y = x·scale + shift, computed in Double so folding adds no rounding of its own.
    public var scaleShift: (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 0, count: channels), shift = scale
        for c in 0..<channels {
            let s = Double(gamma[c]) / (Double(runningVar[c]) + Double(eps)).squareRoot()
            scale[c] = Float(s)
            shift[c] = Float(Double(beta[c]) - Double(runningMean[c]) * s)
        }
        return (scale, shift)
    }

    /// Applies the normalisation in place to `count` rows of `channels` values (BatchNorm1d on [N, C]).
    public func apply(rows x: UnsafeMutablePointer<Float>, count: Int) {
        let (scale, shift) = scaleShift
        for r in 0..<count {
            for c in 0..<channels { x[r * channels + c] = x[r * channels + c] * scale[c] + shift[c] }
        }
    }

    /// Folds this normalisation into the conv that precedes it.
    public func fold(into conv: Conv2d) {
        precondition(conv.outChannels == channels, "BatchNorm: \(channels) channels after a conv with \(conv.outChannels)")
        let (scale, shift) = scaleShift
        conv.scaleOutputChannels(scale: scale, shift: shift)
    }

    /// Folds this normalisation into the linear layer that precedes it.
    public func fold(into linear: Linear) {
        precondition(linear.outFeatures == channels, "BatchNorm: \(channels) features after a linear with \(linear.outFeatures)")
        let (scale, shift) = scaleShift
        linear.scaleOutputs(scale: scale, shift: shift)
    }
}
