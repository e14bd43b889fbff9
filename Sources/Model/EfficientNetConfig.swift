import Engine

/// One row of the EfficientNet block table (torchvision's MBConvConfig before scaling).
public struct MBConvStage: Sendable, Equatable {
    public let expandRatio: Int
    public let kernel: Int
    public let stride: Int
    public let inChannels: Int
    public let outChannels: Int
    public let repeats: Int
}

/// One resolved MBConv block: channels after width scaling, stride only on a stage's first block.
public struct MBConvSpec: Sendable, Equatable {
    public let stage: Int
    public let indexInStage: Int
    public let inChannels: Int
    public let expandedChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    /// Squeeze channels of the SE module, nil when the block has none.
    public let squeezeChannels: Int?
    public var hasExpansion: Bool { expandedChannels != inChannels }
    public var hasResidual: Bool { stride == 1 && inChannels == outChannels }
}

/// EfficientNet described by data: a block table plus multipliers. B0–B7 follow torchvision's
/// `efficientnet.py`; Lite0–2 follow the TF EfficientNet-Lite recipe (no SE, ReLU6, stem/head and the
/// first/last stage repeats not scaled).
public struct EfficientNetConfig: Sendable, Equatable {
    public let name: String
    public let stages: [MBConvStage]
    public let widthMult: Double
    public let depthMult: Double
    public let bnEps: Double
    public let activation: Activation
    public let squeezeExcitation: Bool
    /// Lite: stem and head widths fixed, first and last stage repeats fixed.
    public let lite: Bool
    /// Head conv output channels; nil means 4 × the last stage's output (torchvision B0–B7).
    public let headChannelsOverride: Int?

    /// The B0 table that every variant scales.
    public static let baseStages: [MBConvStage] = [
        MBConvStage(expandRatio: 1, kernel: 3, stride: 1, inChannels: 32, outChannels: 16, repeats: 1),
        MBConvStage(expandRatio: 6, kernel: 3, stride: 2, inChannels: 16, outChannels: 24, repeats: 2),
        MBConvStage(expandRatio: 6, kernel: 5, stride: 2, inChannels: 24, outChannels: 40, repeats: 2),
        MBConvStage(expandRatio: 6, kernel: 3, stride: 2, inChannels: 40, outChannels: 80, repeats: 3),
        MBConvStage(expandRatio: 6, kernel: 5, stride: 1, inChannels: 80, outChannels: 112, repeats: 3),
        MBConvStage(expandRatio: 6, kernel: 5, stride: 2, inChannels: 112, outChannels: 192, repeats: 4),
        MBConvStage(expandRatio: 6, kernel: 3, stride: 1, inChannels: 192, outChannels: 320, repeats: 1),
    ]

    /// (width, depth, BatchNorm eps) per architecture name. torchvision builds B5–B7 with eps 1e-3.
    public static let known: [String: (width: Double, depth: Double, eps: Double, lite: Bool)] = [
        "efficientnet_b0": (1.0, 1.0, 1e-5, false),
        "efficientnet_b1": (1.0, 1.1, 1e-5, false),
        "efficientnet_b2": (1.1, 1.2, 1e-5, false),
        "efficientnet_b3": (1.2, 1.4, 1e-5, false),
        "efficientnet_b4": (1.4, 1.8, 1e-5, false),
        "efficientnet_b5": (1.6, 2.2, 1e-3, false),
        "efficientnet_b6": (1.8, 2.6, 1e-3, false),
        "efficientnet_b7": (2.0, 3.1, 1e-3, false),
        "efficientnet_lite0": (1.0, 1.0, 1e-3, true),
        "efficientnet_lite1": (1.0, 1.1, 1e-3, true),
        "efficientnet_lite2": (1.1, 1.2, 1e-3, true),
    ]

    public static var knownNames: [String] { known.keys.sorted() }

    public init(name: String, stages: [MBConvStage] = EfficientNetConfig.baseStages, widthMult: Double, depthMult: Double,
                bnEps: Double, lite: Bool, headChannelsOverride: Int? = nil) {
        self.name = name; self.stages = stages; self.widthMult = widthMult; self.depthMult = depthMult
        self.bnEps = bnEps; self.lite = lite
        activation = lite ? .relu6 : .silu
        squeezeExcitation = !lite
        self.headChannelsOverride = headChannelsOverride
    }

    /// A named architecture, with optional overrides (the tiny test configurations use them).
    public static func named(_ name: String, widthMult: Double? = nil, depthMult: Double? = nil, bnEps: Double? = nil,
                             headChannels: Int? = nil) -> EfficientNetConfig? {
        guard let k = known[name] else { return nil }
        return EfficientNetConfig(name: name, widthMult: widthMult ?? k.width, depthMult: depthMult ?? k.depth,
                                  bnEps: bnEps ?? k.eps, lite: k.lite, headChannelsOverride: headChannels)
    }

    /// torchvision's `_make_divisible(v, 8)`: nearest multiple of 8, at least 8, never more than 10 % below v.
    public static func makeDivisible(_ v: Double, divisor: Int = 8) -> Int {
        let d = Double(divisor)
        var newV = max(divisor, Int(v + d / 2) / divisor * divisor)
        if Double(newV) < 0.9 * v { newV += divisor }
        return newV
    }

    public func scaledChannels(_ c: Int) -> Int { EfficientNetConfig.makeDivisible(Double(c) * widthMult) }

    public func scaledRepeats(stage: Int) -> Int {
        if lite && (stage == 0 || stage == stages.count - 1) { return stages[stage].repeats }
        return Int((Double(stages[stage].repeats) * depthMult).rounded(.up))
    }

    /// Stem conv output channels.
    public var stemChannels: Int { lite ? 32 : scaledChannels(stages[0].inChannels) }

    /// Every MBConv block in order.
    public var blocks: [MBConvSpec] {
        var out = [MBConvSpec]()
        for (s, stage) in stages.enumerated() {
            let stageIn = s == 0 ? stemChannels : scaledChannels(stage.inChannels)
            let stageOut = scaledChannels(stage.outChannels)
            for j in 0..<scaledRepeats(stage: s) {
                let inC = j == 0 ? stageIn : stageOut
                let expanded = EfficientNetConfig.makeDivisible(Double(inC) * Double(stage.expandRatio))
                out.append(MBConvSpec(stage: s, indexInStage: j, inChannels: inC, expandedChannels: expanded,
                                      outChannels: stageOut, kernel: stage.kernel, stride: j == 0 ? stage.stride : 1,
                                      squeezeChannels: squeezeExcitation ? max(1, inC / 4) : nil))
            }
        }
        return out
    }

    public var lastStageChannels: Int { scaledChannels(stages[stages.count - 1].outChannels) }

    /// Channels of the backbone's output (the head conv, features[-1]).
    public var featureChannels: Int {
        if let h = headChannelsOverride { return h }
        return lite ? 1280 : 4 * lastStageChannels
    }

    /// Total stride of the backbone (32 for the standard table).
    public var totalStride: Int { stages.reduce(2) { $0 * $1.stride } }
}

extension EfficientNetConfig {
    /// Learnable parameters of `features` (convs, BN affine, SE), as PyTorch counts them.
    public var featureParameterCount: Int {
        var n = 3 * stemChannels * 9 + 2 * stemChannels
        for b in blocks {
            let e = b.expandedChannels
            if b.hasExpansion { n += b.inChannels * e + 2 * e }
            n += e * b.kernel * b.kernel + 2 * e
            if let sq = b.squeezeChannels { n += e * sq + sq + sq * e + e }
            n += e * b.outChannels + 2 * b.outChannels
        }
        n += lastStageChannels * featureChannels + 2 * featureChannels
        return n
    }
}
