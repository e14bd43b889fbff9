// `--method NAME` (gradcam, predict, evaluate): a CAM method of the registry, or a one-line refusal naming them all.
import ArgumentParser
import Basics
import Imaging
import Model

extension CAMMethod {
    static func parse(_ name: String) throws -> CAMMethod {
        guard let method = CAMMethod.named(name) else {
            throw ValidationError("unknown CAM method '\(TerminalSafeText.clean(name))'; use one of \(all.map(\.id).joined(separator: ", "))")
        }
        return method
    }
}
