import CDicom
import Foundation
import Imaging

/// What fracview sends back for one reviewed case: the model's result, the reviewer's decision and the boxes, with
/// the source instance they are about. Plain values: the command gathers them from the review database and the
/// prediction cache, and the PACS module turns them into DICOM.
public struct CaseFindings: Sendable, Equatable {
    public struct Box: Sendable, Equatable {
        /// Image pixels, (0,0) the top-left corner of the top-left pixel.
        public var x0: Double, y0: Double, x1: Double, y1: Double
        public var score: Double
        public var label: String?
        public init(x0: Double, y0: Double, x1: Double, y1: Double, score: Double, label: String? = nil) {
            self.x0 = x0; self.y0 = y0; self.x1 = x1; self.y1 = y1; self.score = score; self.label = label
        }
    }

    public var study: String, series: String, sop: String
    /// The source instance as a file (from the instance cache).
    public var sourceFile: String
    public var modelClass: String?
    public var modelProbability: Double
    /// "accepted", "flagged" or "relabelled".
    public var decision: String
    public var decidedClass: String?
    public var reviewer: String
    /// The decision's role ("reader", "adjudicator"): each role's decision is its own SR.
    public var role: String
    public var decidedAt: Date
    public var softwareVersion: String
    public var weightsID: String
    public var modelBoxes: [Box]
    public var labelBoxes: [Box]
    /// The VOI window (centre, width) in modality units, or nil for the image's own.
    public var window: (center: Double, width: Double)?

    public init(study: String, series: String, sop: String, sourceFile: String, modelClass: String?, modelProbability: Double,
                decision: String, decidedClass: String?, reviewer: String, role: String, decidedAt: Date,
                softwareVersion: String, weightsID: String, modelBoxes: [Box], labelBoxes: [Box],
                window: (center: Double, width: Double)?) {
        self.study = study; self.series = series; self.sop = sop; self.sourceFile = sourceFile
        self.modelClass = modelClass; self.modelProbability = modelProbability; self.decision = decision
        self.decidedClass = decidedClass; self.reviewer = reviewer; self.role = role; self.decidedAt = decidedAt
        self.softwareVersion = softwareVersion; self.weightsID = weightsID; self.modelBoxes = modelBoxes
        self.labelBoxes = labelBoxes; self.window = window
    }

    public static func == (a: CaseFindings, b: CaseFindings) -> Bool { a.contentKey == b.contentKey }

    /// Everything the objects say, as one string: equal keys, equal objects.
    public var contentKey: String {
        func f(_ v: Double) -> String { String(format: "%.4f", v) }
        let boxes = (modelBoxes + [Box(x0: -1, y0: -1, x1: -1, y1: -1, score: -1)] + labelBoxes)
            .map { [f($0.x0), f($0.y0), f($0.x1), f($0.y1), f($0.score), $0.label ?? ""].joined(separator: ",") }
        return [study, series, sop, modelClass ?? "", f(modelProbability), decision, decidedClass ?? "", reviewer, role,
                dicomDateTime(decidedAt), softwareVersion, weightsID, boxes.joined(separator: ";"),
                window.map { "\(f($0.center)),\(f($0.width))" } ?? ""].joined(separator: "|")
    }
}

/// "YYYYMMDDHHMMSS" in UTC.
func dicomDateTime(_ date: Date) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyyMMddHHmmss"
    return formatter.string(from: date)
}

/// The UIDs of one sent pair, and the SR it supersedes.
public struct FindingsUIDs: Sendable, Equatable, Codable {
    public var srSeries: String, srInstance: String, prSeries: String, prInstance: String
    public var predecessorSeries: String?, predecessorInstance: String?
}

/// The SR and the presentation state as DICOM files, written by DCMTK (CDicom's findings.cpp).
public enum FindingsObjects {
    public static let srSeriesNumber = 9901, prSeriesNumber = 9902

    public static func write(_ f: CaseFindings, uids: FindingsUIDs) throws -> (sr: Data, pr: Data) {
        let dir = NSTemporaryDirectory() + "fracview-findings-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let strings: [String?] = [f.sourceFile, uids.srSeries, uids.srInstance, uids.prSeries, uids.prInstance,
                                  uids.predecessorSeries, uids.predecessorInstance, dicomDateTime(f.decidedAt), f.modelClass,
                                  f.decision, f.decidedClass, f.reviewer, dicomDateTime(f.decidedAt), f.softwareVersion, f.weightsID]
        let labels = (f.modelBoxes + f.labelBoxes).map(\.label)
        // C strings that live until the calls return.
        let owned = (strings + labels).map { $0.map { strdup($0)! } }
        defer { owned.forEach { free($0) } }
        func box(_ b: CaseFindings.Box, _ label: UnsafeMutablePointer<CChar>?) -> cdicom_box {
            cdicom_box(x0: b.x0, y0: b.y0, x1: b.x1, y1: b.y1, score: b.score, label: label)
        }
        let modelBoxes = f.modelBoxes.enumerated().map { box($1, owned[strings.count + $0]) }
        let labelBoxes = f.labelBoxes.enumerated().map { box($1, owned[strings.count + f.modelBoxes.count + $0]) }
        return try modelBoxes.withUnsafeBufferPointer { model in
            try labelBoxes.withUnsafeBufferPointer { label in
                var c = cdicom_findings()
                c.source_path = UnsafePointer(owned[0])
                c.sr_series_uid = UnsafePointer(owned[1]); c.sr_instance_uid = UnsafePointer(owned[2])
                c.sr_series_number = Int32(srSeriesNumber)
                c.pr_series_uid = UnsafePointer(owned[3]); c.pr_instance_uid = UnsafePointer(owned[4])
                c.pr_series_number = Int32(prSeriesNumber)
                c.predecessor_sr_series_uid = UnsafePointer(owned[5]); c.predecessor_sr_instance_uid = UnsafePointer(owned[6])
                c.content_datetime = UnsafePointer(owned[7])
                c.model_class = UnsafePointer(owned[8]); c.model_probability = f.modelProbability
                c.decision = UnsafePointer(owned[9]); c.decided_class = UnsafePointer(owned[10])
                c.reviewer = UnsafePointer(owned[11]); c.decision_datetime = UnsafePointer(owned[12])
                c.software_version = UnsafePointer(owned[13]); c.weights_id = UnsafePointer(owned[14])
                c.model_boxes = model.baseAddress; c.model_box_count = Int32(model.count)
                c.label_boxes = label.baseAddress; c.label_box_count = Int32(label.count)
                if let w = f.window { c.has_window = 1; c.window_center = w.center; c.window_width = w.width }
                var error = [CChar](repeating: 0, count: 256)
                let srPath = dir + "/sr.dcm", prPath = dir + "/pr.dcm"
                if cdicom_write_findings_sr(&c, srPath, &error) != 0 {
                    throw PACSError("the findings SR for \(f.sop): \(String(cString: error))")
                }
                if cdicom_write_presentation_state(&c, prPath, &error) != 0 {
                    throw PACSError("the presentation state for \(f.sop): \(String(cString: error))")
                }
                return (try Data(contentsOf: URL(fileURLWithPath: srPath)), try Data(contentsOf: URL(fileURLWithPath: prPath)))
            }
        }
    }
}
