import Engine

/// Reads the tensors an architecture expects from a safetensors file, in model order, checking each one's
/// presence, dtype and shape; the first bad one throws a one-line `WeightsError` naming it.
/// BatchNorm is folded into its conv here, straight from the mapped data.
struct WeightReader {
    let file: SafeTensorsFile
    private(set) var used = Set<String>()
    /// Learnable parameters read (weights and biases; BN running statistics excluded).
    private(set) var parameterCount = 0

    init(file: SafeTensorsFile) { self.file = file }

    private func fail(_ reason: String) -> WeightsError { WeightsError(path: file.path, reason: reason) }

    mutating func tensor(_ name: String, shape: [Int], isParameter: Bool = true) throws -> [Float] {
        guard let e = file.entry(name) else { throw fail("missing tensor \(name) (expected shape \(shape))") }
        guard e.dtype.isFloat else {
            throw fail("tensor \(name) has dtype \(e.dtype.rawValue), expected F32, F16 or BF16")
        }
        guard e.shape == shape else {
            throw fail("tensor \(name) has shape \(e.shape), expected \(shape) for this architecture")
        }
        used.insert(name)
        if isParameter { parameterCount += e.elementCount }
        return try file.floats(name)
    }

    /// `prefix.weight`, `prefix.bias`, `prefix.running_mean`, `prefix.running_var` (num_batches_tracked optional).
    mutating func batchNorm(_ prefix: String, channels: Int, eps: Double) throws -> BatchNorm {
        let gamma = try tensor("\(prefix).weight", shape: [channels])
        let beta = try tensor("\(prefix).bias", shape: [channels])
        let mean = try tensor("\(prefix).running_mean", shape: [channels], isParameter: false)
        let variance = try tensor("\(prefix).running_var", shape: [channels], isParameter: false)
        if file.entry("\(prefix).num_batches_tracked") != nil { used.insert("\(prefix).num_batches_tracked") }
        if let bad = variance.firstIndex(where: { !($0 >= 0) }) {
            throw fail("tensor \(prefix).running_var has a negative or NaN value at index \(bad)")
        }
        return BatchNorm(gamma: gamma, beta: beta, runningMean: mean, runningVar: variance, eps: Float(eps))
    }

    /// torchvision's Conv2dNormActivation: `prefix.0` a bias-free conv, `prefix.1` its BatchNorm (folded).
    mutating func convBN(_ prefix: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1,
                         groups: Int = 1, eps: Double, activation: Activation) throws -> Conv2d {
        let w = try tensor("\(prefix).0.weight", shape: [outChannels, inChannels / groups, kernel, kernel])
        let conv = Conv2d(inChannels: inChannels, outChannels: outChannels, kernelSize: kernel, stride: stride,
                          padding: (kernel - 1) / 2, groups: groups, weight: w, bias: nil, activation: activation)
        try batchNorm("\(prefix).1", channels: outChannels, eps: eps).fold(into: conv)
        return conv
    }

    /// A plain 1×1 conv with bias (`prefix.weight`, `prefix.bias`).
    mutating func pointwiseConv(_ prefix: String, inChannels: Int, outChannels: Int, activation: Activation) throws -> Conv2d {
        let w = try tensor("\(prefix).weight", shape: [outChannels, inChannels, 1, 1])
        let b = try tensor("\(prefix).bias", shape: [outChannels])
        return Conv2d(inChannels: inChannels, outChannels: outChannels, kernelSize: 1, weight: w, bias: b, activation: activation)
    }

    mutating func linear(_ prefix: String, inFeatures: Int, outFeatures: Int) throws -> Linear {
        let w = try tensor("\(prefix).weight", shape: [outFeatures, inFeatures])
        let b = try tensor("\(prefix).bias", shape: [outFeatures])
        return Linear(inFeatures: inFeatures, outFeatures: outFeatures, weight: w, bias: b)
    }

    /// The tensors under `prefix` are another member's, already read and checked (a byte-identical backbone): count
    /// them as read.
    mutating func markShared(prefix: String, parameterCount shared: Int) {
        for e in file.entries where e.name.hasPrefix(prefix) { used.insert(e.name) }
        parameterCount += shared
    }

    /// Tensors under the model's own prefixes that the architecture does not have (e.g. SE weights in a file
    /// declared as a Lite model) mean the file and the architecture disagree.
    func checkNoUnexpected(prefixes: [String], architecture: String) throws {
        for e in file.entries where !used.contains(e.name) && prefixes.contains(where: { e.name.hasPrefix($0) }) {
            throw fail("unexpected tensor \(e.name): \(architecture) has no such parameter (wrong architecture in metadata?)")
        }
    }
}
