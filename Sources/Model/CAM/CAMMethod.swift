import Basics
import Engine

/// A class activation map method: how a map over the last feature map is made from its activations F and the
/// gradient G of the target class's logit with respect to them (both [hw, C], row-major, channels last).
/// Every method here costs at most one backward through the head (never through the backbone), so all of them
/// are computed with every forward and the screen switches between them instantly.
///
/// Each method matches pytorch-grad-cam's class of the same name (scripts/fixtures/make_cam_fixtures.py): the raw
/// map is the library's `get_cam_image`, then ReLU. fracview then divides by the maximum (+1e-6) for display,
/// where the library also subtracts the minimum; the two agree once both are scaled to [0, 1].
///
/// Adding a method: one file that declares it (`extension CAMMethod { static let … }`), and its place in `all`.
public struct CAMMethod: Sendable, Hashable, Identifiable {
    /// The name in the cache, on the command line (`--method`) and in JSON: `gradcam`, `gradcam++`, …
    public let id: String
    /// The name on screen and in reports.
    public let title: String
    /// The paper, for the docs and `--help`.
    public let reference: String
    let rawMap: @Sendable (CAMInputs) -> [Float]

    public static func == (a: CAMMethod, b: CAMMethod) -> Bool { a.id == b.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }

    /// The registry, in the order the screen cycles through them. Grad-CAM, the notebook's, comes first.
    public static let all: [CAMMethod] = [.gradCAM, .gradCAMPlusPlus, .hiResCAM, .xGradCAM, .layerCAM, .eigenCAM]

    public static func named(_ id: String) -> CAMMethod? { all.first { $0.id == id.lowercased() } }

    /// The method's map: its raw map, ReLU, divided by its maximum + 1e-6 (the notebook's display scaling).
    public func map(_ inputs: CAMInputs) -> FeatureMap {
        var cam = rawMap(inputs)
        var top: Float = 0
        for i in cam.indices { cam[i] = cam[i].isFinite ? max(cam[i], 0) : 0; top = max(top, cam[i]) }
        for i in cam.indices { cam[i] /= top + 1e-6 }
        return FeatureMap(width: inputs.width, height: inputs.height, values: cam)
    }
}

/// What a method reads: the activations F, and G = d logit[target] / dF, both [hw, C] row-major.
public struct CAMInputs {
    public let width: Int, height: Int, channels: Int
    public let features: UnsafePointer<Float>
    public let gradient: [Float]
    /// Σ_i F[i, c] per channel, which Grad-CAM++, XGrad-CAM and EigenCAM all read: summed once.
    public let featureSums: [Float]
    public var positions: Int { width * height }

    public init(width: Int, height: Int, channels: Int, features: UnsafePointer<Float>, gradient: [Float]) {
        self.width = width; self.height = height; self.channels = channels; self.features = features; self.gradient = gradient
        var sums = [Float](repeating: 0, count: channels)
        for i in 0..<width * height { for c in 0..<channels { sums[c] += features[i * channels + c] } }
        featureSums = sums
    }

    /// Σ_c weight[c]·F[i, c] at every position i (`weights` has C entries).
    func weightedSum(_ weights: [Float]) -> [Float] {
        var cam = [Float](repeating: 0, count: positions)
        weights.withUnsafeBufferPointer { w in
            cam.withUnsafeMutableBufferPointer { MatrixVector.multiply(m: positions, n: channels, a: features, x: w.baseAddress!, y: $0.baseAddress!) }
        }
        return cam
    }

    /// Per channel, the spatial mean of G (Grad-CAM's weights): one matrix-vector product.
    func meanGradient() -> [Float] {
        let ones = [Float](repeating: 1 / Float(positions), count: positions)
        var out = [Float](repeating: 0, count: channels)
        gradient.withUnsafeBufferPointer { g in
            ones.withUnsafeBufferPointer { o in
                out.withUnsafeMutableBufferPointer {
                    MatrixVector.multiply(transposed: true, m: positions, n: channels, a: g.baseAddress!, x: o.baseAddress!, y: $0.baseAddress!)
                }
            }
        }
        return out
    }

    /// Σ_c f(G[i, c], F[i, c]) at every position i.
    @inline(__always)
    func sumOverChannels(_ f: (Float, Float) -> Float) -> [Float] {
        var cam = [Float](repeating: 0, count: positions)
        for i in 0..<positions {
            var s: Float = 0
            for c in 0..<channels { s += f(gradient[i * channels + c], features[i * channels + c]) }
            cam[i] = s
        }
        return cam
    }

    /// Per channel, Σ_i f(G[i, c], F[i, c]).
    @inline(__always)
    func sumOverPositions(_ f: (Float, Float) -> Float) -> [Float] {
        var out = [Float](repeating: 0, count: channels)
        for i in 0..<positions { for c in 0..<channels { out[c] += f(gradient[i * channels + c], features[i * channels + c]) } }
        return out
    }
}

extension CAMMethod {
    /// The method the screen opens with and `gradcam`/`predict` use unless told: the one whose maximum fell in a
    /// label box most often on the 1449 held-out HBFMID cases (`fracview evaluate --cam-methods all`): HiResCAM,
    /// 0.260 against Grad-CAM's 0.251, within each other's CIs, and level on the deletion test. docs/review.md
    /// has the table.
    public static let preferred = CAMMethod.hiResCAM
}
