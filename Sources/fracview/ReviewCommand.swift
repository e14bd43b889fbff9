import ArgumentParser
import Basics
import Datasets
import Foundation
import Imaging
import Inference
import Model
import PACS
import Review
import Store
import Terminal

/// `fracview review` (the default command): the review TUI.
struct ReviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Step through a dataset split, compare the model with the labels, flag and relabel.",
        discussion: "Keys: ? in the TUI, or docs/tui.md. Every decision is saved to the review database at once.")

    @Argument(help: ArgumentHelp("Dataset root (YOLO layout with data.yaml), a folder of images, or a PACS's DICOMweb "
                               + "root http[s]://[user:password@]host[:port]/path with --study or --query. "
                               + "Default: the bundled sample samples/hbfmid-test.", valueName: "DATASET|URL"))
    var dataset: String?

    @OptionGroup var pacs: PACSOptions

    @Option(help: "Split to review.")
    var split = "test"

    @Option(help: "Model weights (.safetensors). Default: the shipped weights; without any, the TUI opens with \"no model\".")
    var weights: String?

    @Option(help: ArgumentHelp("Review database: a file, or a postgres://user@host:port/db URL shared by a team "
                               + "(password from the URL, PG* variables or ~/.pgpass). Default: \(ReviewStore.defaultFileName) "
                               + "in the dataset folder.", valueName: "FILE|URL"))
    var db: String?

    @Option(help: ArgumentHelp("With a PostgreSQL --db: the local SQLite file that caches the model's predictions. "
                               + "Default: \(ReviewStore.defaultFileName) in the dataset folder.", valueName: "FILE"))
    var cache: String?

    @Option(help: "Reviewer name (decisions are kept per reviewer). Default: $USER.")
    var reviewer: String?

    @Flag(help: "An independent read: the dataset label and other readers' decisions are hidden; pick the class yourself.")
    var blind = false

    @Flag(help: "With --blind (which it implies): hide the model too (no prediction, no Grad-CAM).")
    var blindModel = false

    @Flag(help: "Adjudicate: step through the cases where readers disagree, their answers side by side; your decision is stored with the role adjudicator.")
    var adjudicate = false

    @Option(help: "Image drawing: sixel, blocks or none. Default: sixel if the terminal answers that it has it, else blocks.")
    var graphics: String?

    @Option(help: "Colour theme (dark, light, high-contrast). NO_COLOR turns colours off.")
    var theme: String?

    @Flag(inversion: .prefixedNo, help: "Move to the next case after a decision.")
    var autoAdvance = true

    @Option(help: "Where `e` writes the CSV. Default: fracview-review-<split>-<reviewer>.csv beside the database.")
    var export: String?

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        var requested: GraphicsMode?
        if let graphics {
            guard let g = GraphicsMode(rawValue: graphics.lowercased()) else {
                throw ValidationError("--graphics must be sixel, blocks or none (got \(graphics))")
            }
            requested = g
        }
        let opened = try openCases(environment: env)
        let (root, split, cases) = (opened.root, opened.split, opened.source.cases)
        if adjudicate && (blind || blindModel) { throw ValidationError("--adjudicate shows every reader's answer: it cannot be --blind") }
        let readMode: ReadMode = blindModel ? .blindModel : (blind ? .blind : .open)
        let who = ReviewStore.reviewerName(reviewer, env: env)
        let localPath = (opened.folder as NSString).appendingPathComponent(ReviewStore.defaultFileName)
        let dbPath = db ?? localPath
        let location = StoreLocation.parse(dbPath)

        var ensemble: ModelEnsemble?
        // A read blind to the model does not load it: nothing of it can reach the screen.
        let weightsPath = readMode.hidesModel ? nil : (weights ?? DefaultWeights.locate())
        if let path = weightsPath {
            do { ensemble = try ModelEnsemble(path: path) }
            catch { throw CommandFailure(TerminalSafeText.clean("cannot load weights \(path): \(error)")) }
        }
        // Without data.yaml (a plain folder) the classes are the model's.
        let classes = opened.classes.isEmpty ? (ensemble?.info.classes ?? []) : opened.classes
        guard !classes.isEmpty else {
            throw CommandFailure("\(root) names no classes (no data.yaml): give a model with --weights for its class names")
        }

        let store: DecisionStore
        // The prediction cache is always a local SQLite file: it is per machine and per weights, and large.
        var predictionCache: PredictionCache?
        do {
            // The store checks the location itself and names the path (or the URL without its password) in its errors.
            let opened = try StoreOpening.openWithCache(dbPath)
            store = opened.decisions
            try store.setSessionInfo(datasetRoot: root, classes: classes)
            switch location {
            case .sqlite: predictionCache = opened.predictionCache
            case .postgres:
                let cachePath = cache ?? localPath
                do {
                    predictionCache = try SQLitePredictionCache(path: cachePath)
                } catch {
                    Console.error("warning: no prediction cache (\(error)): predictions are recomputed each session")
                }
            }
        } catch let error as ReviewStoreError {
            throw CommandFailure(error.description)
        } catch {
            throw CommandFailure("cannot use the review database \(location.display): \(error)")
        }

        // One decode per case: the runner and the image pane share the decoded images.
        let images = CaseImages(source: opened.source)
        let predictions: PredictionSource
        if let ensemble, let path = weightsPath {
            // Classes are matched by name: the model may order them differently from data.yaml.
            let mapping: ClassMapping
            do { mapping = try ClassMapping(modelClasses: ensemble.info.classes, datasetClasses: classes) }
            catch { throw CommandFailure("\(TerminalSafeText.clean(path)): \(error)") }
            // Background inference over the split, through the database's prediction cache; each case is judged by
            // the members that have not seen it.
            predictions = RunnerPredictionSource(runner: InferenceRunner(images: images, classifier: EnsembleClassifier(ensemble),
                                                                         cache: predictionCache, mapping: mapping))
        } else {
            predictions = NoModelPredictionSource(count: cases.count)
        }

        // Themes: the chosen one first (a one-line error if it is unknown or malformed), then the others for `t`.
        let chosen: Theme
        do { chosen = try Theme.resolve(name: theme, env: env) } catch { throw CommandFailure("\(error)") }
        var palettes = [Palette(theme: chosen)]
        for name in Theme.availableNames() where name != chosen.name {
            if let other = try? Theme.resolve(name: name, env: env) { palettes.append(Palette(theme: other)) }
        }
        let monochrome = chosen.monochrome

        // Beside the database file; for a server, in the folder fracview was started from.
        var exportDir = FileManager.default.currentDirectoryPath
        if case .sqlite(let path) = location { exportDir = (path as NSString).deletingLastPathComponent }
        let exportPath = export ?? (exportDir as NSString)
            .appendingPathComponent("fracview-review-\(split)-\(ReviewCommand.fileSafe(who)).csv")
        let exportAllPath = export ?? (exportDir as NSString)
            .appendingPathComponent("fracview-review-all-\(ReviewCommand.fileSafe(who)).csv")
        let keys: KeyTable
        do { keys = try KeyTable.loading(KeyTable.userFile()) } catch { throw CommandFailure("\(error)") }

        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
            throw CommandFailure("fracview review needs a terminal (stdin and stdout must be a tty); use `fracview export` for scripts")
        }
        // The label problems `fracview audit` lists for this split (bad label lines, …), for the header's audit summary.
        let session = try ReviewSession(cases: cases, classes: classes, split: split, reviewer: who,
                                        store: store, predictions: predictions,
                                        labelProblems: opened.labelProblems, autoAdvance: autoAdvance,
                                        role: adjudicate ? .adjudicator : .reader, readMode: readMode)
        session.sourceNote = opened.note
        var sender: FindingsSending?
        if let pacsSource = opened.source as? DICOMwebCaseSource, let client = opened.client {
            sender = PACSCaseSender(gatherer: PACSFindingsGatherer(client: client, instanceCache: pacsSource.cache, classes: classes,
                                                                   predictionCache: predictionCache, weights: weights),
                                    store: store, cases: cases, reviewer: who, role: adjudicate ? .adjudicator : .reader, split: split)
        }
        let capabilities = TerminalCapabilities.probe(requested: requested, environment: env)
        let app = ReviewApp(session: session, predictions: predictions, images: images,
                            exporter: StoreExporter(store: store, classes: classes, datasetRoot: root),
                            configuration: ReviewAppConfiguration(capabilities: capabilities, palettes: palettes,
                                                                  paletteIndex: 0, monochrome: monochrome,
                                                                  exportPath: exportPath, exportAllPath: exportAllPath,
                                                                  keys: keys, findingsSender: sender))
        app.run()
        if let pacsSource = opened.source as? DICOMwebCaseSource {
            pacsSource.downloader.stop()
            let usage = pacsSource.cache.usage
            Console.line("PACS cache: \(pacsSource.cache.folder) (\(usage.files) instances, \(usage.bytes >> 20) MiB of \(pacsSource.cache.limitBytes >> 30) GiB)")
            for notice in pacsSource.cache.takeNotices() { Console.error("warning: \(notice)") }
        }
        let c = session.counts
        if readMode.hidesLabel {
            Console.line("fracview: \(c.reviewed)/\(cases.count) read blind (\(c.flagged) flagged) · saved in \(location.display)")
        } else {
            Console.line("fracview: \(c.reviewed)/\(cases.count) \(adjudicate ? "adjudicated" : "reviewed") (\(c.accepted) accepted, \(c.flagged) flagged, \(c.relabelled) relabelled) · saved in \(location.display)")
        }
    }

    /// What the review opens: a dataset folder's split, or PACS studies.
    struct OpenedCases {
        var source: CaseSource
        /// What the store records as the dataset: a folder, or the server (without its password).
        var root: String
        var split: String
        /// Where the review database goes by default: the dataset folder; for a PACS, the current folder.
        var folder: String
        /// The dataset's classes (empty: the model's).
        var classes: [String]
        var labelProblems: Int
        /// For the header, in place of the label audit: a PACS and what it left out.
        var note: String? = nil
        /// A PACS's client, for sending findings back (`P`).
        var client: DICOMwebClient? = nil
    }

    func openCases(environment env: [String: String]) throws -> OpenedCases {
        if let url = dataset, DICOMwebServer.isServerURL(url) {
            let query = try pacs.queryPairs()
            guard !pacs.study.isEmpty || !query.isEmpty else {
                throw ValidationError("a DICOMweb URL needs --study UID or --query KEY=VALUE (see `fracview pacs studies`)")
            }
            let client = try pacs.client(url: url, environment: env)
            let cache = try pacs.cache(environment: env)
            let source: DICOMwebCaseSource
            do {
                source = try DICOMwebCaseSource.open(client: client, cache: cache, studies: pacs.study, query: query)
            } catch { throw CommandFailure("\(error)") }
            if source.skippedNonImages > 0 {
                Console.error("\(source.skippedNonImages) non-image object\(source.skippedNonImages == 1 ? "" : "s") (SR, presentation state, …) left out")
            }
            if !source.offlineStudies.isEmpty {
                Console.error("warning: \(client.server.display) unreachable: \(source.offlineStudies.count) stud\(source.offlineStudies.count == 1 ? "y" : "ies") listed from the cache")
            }
            let skipped = source.skippedNonImages
            return OpenedCases(source: source, root: client.server.display, split: DICOMwebCaseSource.split,
                               folder: FileManager.default.currentDirectoryPath, classes: [], labelProblems: 0,
                               note: "PACS" + (skipped > 0 ? " · \(skipped) non-image skipped" : "")
                                   + (source.offlineStudies.isEmpty ? "" : " · offline (cache)"), client: client)
        }
        if !pacs.study.isEmpty || !pacs.query.isEmpty {
            throw ValidationError("--study and --query need a DICOMweb URL (http[s]://host/path), not a folder")
        }
        guard let root = dataset ?? BundledSample.locate() else { throw CommandFailure(BundledSample.missingMessage) }
        let data = try YOLODataset.open(root: root)
        // A plain folder of images has one split; the default split then means it.
        let split = self.split == "test" && data.splits == [YOLODataset.plainFolderSplit] ? YOLODataset.plainFolderSplit : self.split
        let cases = try data.cases(split: split)
        guard !cases.isEmpty else {
            throw CommandFailure("no images in split '\(split)' of \(root) (available: \(data.splits.joined(separator: ", ")))")
        }
        return OpenedCases(source: FolderCaseSource(cases: cases), root: root, split: split, folder: root,
                           classes: data.classes, labelProblems: data.splitProblems[split]?.count ?? 0)
    }

    static func fileSafe(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }
}


/// `e` in the TUI: this reviewer's decisions through ReviewCSV.
final class StoreExporter: DecisionExporter {
    let store: DecisionStore, classes: [String], datasetRoot: String
    init(store: DecisionStore, classes: [String], datasetRoot: String) {
        self.store = store; self.classes = classes; self.datasetRoot = datasetRoot
    }
    func export(reviewer: String, split: String?, to path: String) throws -> Int {
        let decisions = try store.allDecisions(reviewer: reviewer).filter { split == nil || $0.split == split }
        try ReviewCSV.write(decisions, classes: classes, datasetRoot: datasetRoot, to: path)
        return decisions.count
    }
}
