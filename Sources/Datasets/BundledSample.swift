import Basics
import Foundation

/// The bundled sample dataset (samples/hbfmid-test, the 64 HBFMID test images), found the way the default
/// weights are: under the working directory, else in the folders above the executable.
public enum BundledSample {
    public static let relativePath = "samples/hbfmid-test"
    public static let missingMessage =
        "no dataset given and the bundled sample (samples/hbfmid-test) was not found: pass a dataset folder"

    public static func locate() -> String? { ResourceFolders.first(relativePath, requiring: "data.yaml") }
}
