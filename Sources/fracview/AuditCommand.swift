import ArgumentParser
import Foundation
import Review

/// `fracview audit`: label problems, undecodable images, class counts and leakage between splits;
/// optionally writes a leak-free grouped split manifest.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Audit a YOLO dataset: label problems, class counts, leakage between splits.",
        discussion: """
        Finds missing/empty/bad label files (empty = unlabelled, never class 0), multi-class label files, \
        undecodable images, class counts per split, and valid/test images that are exact or near-duplicate \
        copies (flips, small rotations, brightness) of train images. The exit status is non-zero only when \
        nothing could be audited.
        """)

    @Argument(help: "Dataset folder (data.yaml + train/valid/test). Default: the bundled sample.")
    var dataset: String?

    @Flag(help: "Print the report as JSON on stdout.")
    var json = false

    @Option(name: .customLong("write-split"), help: "Write a leak-free grouped split manifest (CSV path,split) to FILE.")
    var writeSplit: String?

    func run() throws {
        guard let root = dataset ?? BundledSample.locate() else {
            FileHandle.standardError.write(Data("fracview audit: \(BundledSample.missingMessage)\n".utf8))
            throw ExitCode(1)
        }
        let ds: YOLODataset
        do { ds = try YOLODataset.open(root: root) } catch {
            FileHandle.standardError.write(Data("fracview audit: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let bar = ProgressBar()
        let (report, survey) = DatasetAudit.run(dataset: ds, progress: bar.handler)
        var manifest: [(path: String, split: String)]?
        if let writeSplit {
            let rows = DatasetAudit.groupedSplit(dataset: ds, survey: survey, progress: bar.handler)
            bar.finish()
            do { try SplitManifest.write(rows, to: writeSplit) } catch {
                FileHandle.standardError.write(Data("fracview audit: \(error)\n".utf8))
                throw ExitCode(1)
            }
            manifest = rows
        }
        bar.finish()
        if json {
            FileHandle.standardOutput.write(try report.json())
            print()
        } else {
            print(AuditText.render(report), terminator: "")
        }
        if let manifest, let writeSplit {
            let text = "\nWrote leak-free grouped split \(writeSplit) (\(manifest.count) rows)\n"
                + AuditText.manifestSummary(rows: manifest, dataset: ds)
            FileHandle.standardError.write(Data(text.utf8))
        }
        if report.fatal {
            FileHandle.standardError.write(Data("fracview audit: no image could be read in \(root)\n".utf8))
            throw ExitCode(1)
        }
    }
}
