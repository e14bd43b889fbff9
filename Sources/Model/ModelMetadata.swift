import Foundation

/// What a member file is (metadata `role`): a classifier (the default: every notebook export is one) or a
/// localiser (docs/engine.md, "Localiser members").
public enum ModelRole: String, Sendable, CaseIterable {
    case classifier, localiser
}

/// How a crop classifier's crop is cut (docs/engine.md, "Crop classifier members").
public struct CropSettings: Sendable, Equatable {
    public var pad: Double
    public var minSide: Double
}

/// The `__metadata__` keys the model understands, with the notebook's defaults for missing ones.
public struct ModelMetadata: Sendable, Equatable {
    public static let defaultArchitecture = "efficientnet_b4"
    public static let defaultClasses = ["Comminuted", "Greenstick", "Healthy", "Linear", "Oblique Displaced", "Oblique",
                                        "Segmental", "Spiral", "Transverse Displaced", "Transverse"]
    public static let defaultInputSize = [224, 224]
    public static let defaultMean: [Float] = [0.485, 0.456, 0.406]
    public static let defaultStd: [Float] = [0.229, 0.224, 0.225]

    public var role: ModelRole
    /// A classifier of the crop around the localiser's box (`input` = crop) rather than of the whole image, with its
    /// crop rule (`crop_pad`, `crop_min_side`: training/crops.py); nil for a whole-image model.
    public var crop: CropSettings?
    public var architecture: String
    public var classes: [String]
    /// [height, width]
    public var inputSize: [Int]
    public var mean: [Float]
    public var std: [Float]
    /// Optional overrides of the architecture's multipliers (tiny test models use them).
    public var widthMult: Double?
    public var depthMult: Double?
    public var bnEps: Double?
    public var headChannels: Int?

    /// Parses the raw metadata; `fail` builds the error for a malformed key.
    public init(_ raw: [String: String], fail: (String) -> Error) throws {
        func json(_ key: String) throws -> Any? {
            guard let s = raw[key] else { return nil }
            guard let v = try? JSONSerialization.jsonObject(with: Data(s.utf8), options: [.fragmentsAllowed]) else {
                throw fail("metadata \(key) is not valid JSON: \(s.prefix(60))")
            }
            return v
        }
        func numbers(_ key: String, count: Int) throws -> [Double]? {
            guard let v = try json(key) else { return nil }
            guard let a = v as? [Any], a.count == count else { throw fail("metadata \(key) must be a JSON array of \(count) numbers") }
            return try a.map {
                if let d = $0 as? Double { return d }
                if let n = $0 as? NSNumber { return n.doubleValue }
                throw fail("metadata \(key) must be a JSON array of \(count) numbers")
            }
        }
        // Every number is bounded (docs/engine.md): 1e30 as a multiplier would trap or allocate without end.
        func number(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
            guard let s = raw[key] else { return nil }
            guard let d = Double(s.trimmingCharacters(in: .whitespaces)), d.isFinite, range.contains(d) else {
                throw fail("metadata \(key) must be a number in \(range.lowerBound)…\(range.upperBound), got \(s.prefix(40))")
            }
            return d
        }

        if let r = raw["role"] {
            guard let known = ModelRole(rawValue: r.trimmingCharacters(in: .whitespaces)) else {
                throw fail("unsupported: metadata role \"\(r.prefix(40))\" (known: \(ModelRole.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            role = known
        } else {
            role = .classifier
        }
        switch raw["input"]?.trimmingCharacters(in: .whitespaces) {
        case nil, "image": crop = nil
        case "crop":
            crop = CropSettings(pad: try number("crop_pad", in: 0...4) ?? 0.25, minSide: try number("crop_min_side", in: 0...1) ?? 0.2)
        case let other?:
            throw fail("unsupported: metadata input \"\(other.prefix(40))\" (known: image, crop)")
        }
        architecture = raw["architecture"]?.trimmingCharacters(in: .whitespaces) ?? Self.defaultArchitecture
        if let v = try json("classes") {
            guard let a = v as? [Any], !a.isEmpty, a.allSatisfy({ $0 is String }) else {
                throw fail("metadata classes must be a non-empty JSON array of strings")
            }
            classes = a.map { $0 as! String }
        } else {
            classes = Self.defaultClasses
        }
        if let s = try numbers("input_size", count: 2) {
            guard s.allSatisfy({ $0 >= 32 && $0 <= 4096 && $0 == $0.rounded() }) else {
                throw fail("metadata input_size must be two integers between 32 and 4096")
            }
            inputSize = s.map { Int($0) }
        } else {
            inputSize = Self.defaultInputSize
        }
        mean = try numbers("mean", count: 3)?.map { Float($0) } ?? Self.defaultMean
        std = try numbers("std", count: 3)?.map { Float($0) } ?? Self.defaultStd
        // Beyond Float32 a mean or std becomes infinity and every prediction garbage (issue #26): bounded at load.
        guard mean.allSatisfy({ $0.isFinite && abs($0) <= 1e6 }) else { throw fail("metadata mean must be three numbers in -1e6…1e6") }
        guard std.allSatisfy({ $0.isFinite && $0 >= 1e-6 && $0 <= 1e6 }) else { throw fail("metadata std must be three numbers in 1e-6…1e6") }
        widthMult = try number("width_mult", in: 0.01...8)
        depthMult = try number("depth_mult", in: 0.01...8)
        bnEps = try number("bn_eps", in: 1e-12...0.5)
        if let h = try number("head_channels", in: 1...65_536) {
            guard h == h.rounded() else { throw fail("metadata head_channels must be an integer") }
            headChannels = Int(h)
        }
    }
}
