import Foundation
import Imaging

/// `ImageDecoder.decode(data:)` for JPEG and PNG, then the resize to the model input and its tensor.
enum ImageHarness {
    static func run(_ bytes: [UInt8]) {
        guard let image = try? ImageDecoder.decode(data: Data(bytes), name: "fuzz") else { return }
        let small = Resize.pilBilinear(image, width: 32, height: 32)
        _ = ModelInput.tensor(from: small, width: 32, height: 32, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25])
    }
}
