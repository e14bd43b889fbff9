import Model

/// `FractureClassifier(contentsOf:)`: the safetensors header, the metadata bounds and the architecture config.
enum WeightsHarness {
    static func run(_ bytes: [UInt8]) {
        let path = Scratch.file("weights.safetensors", bytes)
        if let model = try? FractureClassifier(contentsOf: path) {
            _ = model.info.classes.count
        }
    }
}
