import ArgumentParser
import Basics
import Datasets
import Engine
import Foundation
import Imaging
import Inference
import Model

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the engine: forward latency at batch 1, Grad-CAM/attention overhead, peak RSS.",
        discussion: """
            Runs on a fixed pseudo-random input of the model's input size with this machine's OpenBLAS settings \
            (OPENBLAS_NUM_THREADS, OPENBLAS_CORETYPE). Latency is the median and 90th percentile over --runs \
            forward passes after warm-up. scripts/bench.sh runs this and PyTorch on the same weights and prints the ratio.
            """)

    @Option(name: .long, help: "Weights file or a directory of fold members (the first is timed alone, then a case through every member); default: the shipped model.")
    var weights: String?

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    @Option(name: .long, help: "Timed forward passes (at least 30).")
    var runs = 50

    @Option(name: .long, help: "Untimed warm-up passes.")
    var warmup = 5

    @Option(name: .long, help: ArgumentHelp("Run on this normalised input instead of the pseudo-random one: raw little-endian float32, 3×H×W at the model's input size (scripts/bench.sh passes a preprocessed X-ray, the same tensor its peers get).", valueName: "file"))
    var inputTensor: String?

    @Option(name: .long, help: ArgumentHelp("Also measure throughput (images/s, decode excluded and included) over these images, one per core and with each op split over the cores; default: the bundled sample's test images. 'none' skips it.", valueName: "dir"))
    var throughputImages: String?

    @Flag(name: .long, help: "Also print a per-layer table (op, shape, ms, GFLOP/s), each layer's median over the runs, and a summary by op.")
    var layers = false

    @Flag(name: .long, help: "For scripts/bench.sh's interleaved head-to-head: after loading and warm-up, read a count N per line from standard input, run N forwards of the first member, and answer each line with one JSON line of their times in ms; stop at end of input.")
    var serveBursts = false

    @Option(name: .long, help: ArgumentHelp("With --serve-bursts: run this member of the --weights folder (its file name: a classifier, localiser or crop member) instead of the first classifier member; --input-tensor is then at its input size.", valueName: "file"))
    var member: String?

    func validate() throws {
        guard runs >= 30 else { throw ValidationError("--runs must be at least 30") }
        guard warmup >= 1 else { throw ValidationError("--warmup must be at least 1") }
        if member != nil && !serveBursts { throw ValidationError("--member goes with --serve-bursts") }
    }

    func run() throws {
        let loadStart = DispatchTime.now()
        let ensemble: ModelEnsemble
        do { ensemble = try ModelLoading.loadEnsemble(weights) } catch { ModelLoading.exitWithError(error) }
        let model = ensemble.members[0].classifier
        let loadMs = ms(since: loadStart)
        let served = try member.map { try servedMember(named: $0, in: ensemble) }
        let h = served?.inputSize[0] ?? model.info.inputSize[0], w = served?.inputSize[1] ?? model.info.inputSize[1]
        let input: [Float]
        // The same pseudo-random pattern for any size (the localiser's input is another size).
        func syntheticInput(_ count: Int) -> [Float] {
            var state: UInt64 = 0x9E3779B97F4A7C15
            return (0..<count).map { _ -> Float in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Float(Int64(bitPattern: state >> 11) % 4000) / 1000 - 2
            }
        }
        if let inputTensor {
            guard let data = FileManager.default.contents(atPath: inputTensor), data.count == 3 * h * w * 4 else {
                throw CommandFailure("\(TerminalSafeText.clean(inputTensor)): expected \(3 * h * w * 4) bytes (float32 3×\(h)×\(w))")
            }
            input = data.withUnsafeBytes { raw in (0..<(3 * h * w)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) } }
        } else {
            input = syntheticInput(3 * h * w)
        }
        if serveBursts {
            let forward = served?.forward ?? { _ = model.run(input: $0, maps: .none) }
            for _ in 0..<warmup { forward(input) }
            return serveBurstsFromInput(forward, input: input)
        }
        let probabilities = model.run(input: input, maps: .none).probabilities
        for _ in 0..<warmup { _ = model.run(input: input, maps: .all) }

        var forward = [Double]()
        for _ in 0..<runs {
            let t = DispatchTime.now()
            _ = model.run(input: input, maps: .none)
            forward.append(ms(since: t))
        }
        // Grad-CAM's extra cost: head with CAM minus head without, on the same features, interleaved.
        let x = Tensor(shape: [1, 3, h, w], values: input)
        let features = model.backboneChannelsLast(x)   // what the head reads in a forward
        var cam = [Double](), attention = [Double]()
        for _ in 0..<max(runs, 200) {
            var t = DispatchTime.now()
            _ = model.head.forward(channelsLast: features, maps: .all)
            let with = ms(since: t)
            t = DispatchTime.now()
            _ = model.head.forward(channelsLast: features, maps: .none)
            cam.append(with - ms(since: t))
            t = DispatchTime.now()
            _ = model.head.attentionMap(channelsLast: features)
            attention.append(ms(since: t))
        }
        // A case through every member, as the review does for a new dataset (no member has seen it).
        // Also without maps, taking turns: the peers' members case is forwards alone.
        var ensembleCase = [Double](), ensembleForwards = [Double]()
        if ensemble.members.count > 1 {
            let all = EnsembleClassifier(ensemble)
            _ = all.run(input: input, maps: .all)
            for _ in 0..<max(10, runs / 5) {
                var t = DispatchTime.now()
                _ = all.run(input: input, maps: .all)
                ensembleCase.append(ms(since: t))
                t = DispatchTime.now()
                _ = all.run(input: input, maps: .none)
                ensembleForwards.append(ms(since: t))
            }
        }
        // The localiser stage: one localiser's forward, and a case through the whole pipeline (every classifier and
        // every localiser, maps included), as for an image no member has seen.
        var localiserForward = [Double](), pipelineCase = [Double]()
        var localiserSize: [Int]?
        if let localiser = ensemble.localisers.first?.localiser {
            let size = localiser.info.inputSize
            localiserSize = size
            let localiserInput = syntheticInput(3 * size[0] * size[1])
            _ = localiser.run(input: localiserInput)
            for _ in 0..<max(10, runs / 2) {
                let t = DispatchTime.now()
                _ = localiser.run(input: localiserInput)
                localiserForward.append(ms(since: t))
            }
            let pipeline = EnsembleClassifier(ensemble)
            let prepared = PreparedInput(tensor: input, thumbnail: nil, localiserTensor: localiserInput)
            _ = pipeline.runHeldOut(prepared, maps: .all)
            for _ in 0..<max(10, runs / 5) {
                let t = DispatchTime.now()
                _ = pipeline.runHeldOut(prepared, maps: .all)
                pipelineCase.append(ms(since: t))
            }
        }
        let (layerRows, profiledForwardMs) = layers ? profileLayers(model: model, input: input) : ([], 0)
        let rssBeforeThroughput = peakRSSMegabytes()  // the throughput pass holds its images' tensors too
        let throughput = try measureThroughput(model: model, h: h, w: w)
        let fMed = percentile(forward, 0.5), fP90 = percentile(forward, 0.9)
        let camMed = max(0, percentile(cam, 0.5)), attMed = percentile(attention, 0.5)
        let extraPct = (camMed + attMed) / fMed * 100
        let rss = rssBeforeThroughput
        let core = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"].map { "\(BLAS.coreName) (OPENBLAS_CORETYPE=\($0))" }
            ?? BLAS.coreName
        if json {
            Console.json(JSONOutput.line(BenchLine(
                architecture: model.info.architecture, weightsID: model.info.weightsID, inputSize: [h, w], batch: 1,
                runs: runs, forwardMsMedian: fMed, forwardMsP90: fP90, forwardMsMin: forward.min() ?? 0,
                gradcamMsMedian: camMed, attentionMsMedian: attMed, explainExtraPercent: JSONOutput.finite(extraPct),
                loadMs: loadMs, peakRssMb: rss, threads: Parallel.threads, openblasCore: BLAS.coreName,
                kernelISA: KernelISA.current, supportedISA: KernelISA.supported,
                members: ensemble.members.count,
                ensembleCaseMsMedian: ensembleCase.isEmpty ? nil : percentile(ensembleCase, 0.5),
                ensembleCaseMsP90: ensembleCase.isEmpty ? nil : percentile(ensembleCase, 0.9),
                ensembleForwardsMsMedian: ensembleForwards.isEmpty ? nil : percentile(ensembleForwards, 0.5),
                ensembleForwardsMsP90: ensembleForwards.isEmpty ? nil : percentile(ensembleForwards, 0.9),
                localisers: ensemble.localisers.count, localiserInputSize: localiserSize,
                localiserMsMedian: localiserForward.isEmpty ? nil : percentile(localiserForward, 0.5),
                pipelineCaseMsMedian: pipelineCase.isEmpty ? nil : percentile(pipelineCase, 0.5),
                pipelineCaseMsP90: pipelineCase.isEmpty ? nil : percentile(pipelineCase, 0.9),
                layers: layers ? layerRows : nil, probabilities: probabilities, throughput: throughput)))
        } else {
            Console.line("model        \(model.info.architecture) \(h)×\(w), weights \(model.info.weightsID), loaded in \(f1(loadMs)) ms")
            Console.line("forward      median \(f1(fMed)) ms, p90 \(f1(fP90)) ms, min \(f1(forward.min() ?? 0)) ms (batch 1, \(runs) runs)")
            Console.line("Grad-CAM     +\(f2(camMed)) ms; attention map \(f2(attMed)) ms (inside the forward); together \(f1(extraPct)) % of a forward")
            if !ensembleCase.isEmpty {
                Console.line("all members  \(ensemble.members.count) members, forward + Grad-CAM each: median \(f1(percentile(ensembleCase, 0.5))) ms, " +
                      "p90 \(f1(percentile(ensembleCase, 0.9))) ms per case; forwards alone: median \(f1(percentile(ensembleForwards, 0.5))) ms")
            }
            if let size = localiserSize, !localiserForward.isEmpty {
                Console.line("localiser    \(ensemble.localisers[0].localiser.info.architecture) \(size[0])×\(size[1]): median \(f1(percentile(localiserForward, 0.5))) ms a forward, boxes read")
                Console.line("pipeline     \(ensemble.members.count) classifier\(ensemble.members.count == 1 ? "" : "s") + \(ensemble.localisers.count) localiser\(ensemble.localisers.count == 1 ? "" : "s") + \(ensemble.cropMembers.count) crop, maps included (an image no member has seen): " +
                             "median \(f1(percentile(pipelineCase, 0.5))) ms, p90 \(f1(percentile(pipelineCase, 0.9))) ms per case")
            }
            if let t = throughput {
                Console.line("throughput   \(t.images) images, decode excluded: \(f1(t.perCoreExcluded)) images/s one per core (\(t.workers) workers), " +
                             "\(f1(t.splitExcluded)) images/s each op over the cores; decode included: \(f1(t.perCoreIncluded)) / \(f1(t.splitIncluded)) images/s")
            }
            let localiserNote = ensemble.localisers.isEmpty ? "" : " + \(ensemble.localisers.count) localiser\(ensemble.localisers.count == 1 ? "" : "s")"
            let cropNote = ensemble.cropMembers.isEmpty ? "" : " + \(ensemble.cropMembers.count) crop classifiers"
            Console.line("peak RSS     \(f1(rss)) MB (\(ensemble.members.count) member\(ensemble.members.count == 1 ? "" : "s")\(localiserNote)\(cropNote) loaded)")
            Console.line("threads      \(Parallel.threads) engine thread(s); OpenBLAS core \(core); kernels \(KernelISA.current)"
                         + (KernelISA.current == KernelISA.supported ? "" : " (capped by FRACVIEW_MAX_ISA; the CPU has \(KernelISA.supported))"))
            if layers { printLayers(layerRows, forward: profiledForwardMs) }
        }
    }

    /// The other side of `scripts/bench_peers.py --versus`: the peer and fracview take turns in short bursts,
    /// so that this machine's drift (tens of percent within seconds) falls on both alike. A line that is not a
    /// count between 1 and 10,000 ends the loop.
    private func serveBurstsFromInput(_ forward: ([Float]) -> Void, input: [Float]) {
        setvbuf(stdout, nil, _IOLBF, 0)
        while let line = readLine(), let count = Int(line.trimmingCharacters(in: .whitespaces)), (1...10_000).contains(count) {
            var times = [Double]()
            for _ in 0..<count {
                let t = DispatchTime.now()
                forward(input)
                times.append(ms(since: t))
            }
            let ms = times.map { String(format: "%.4f", $0) }.joined(separator: ", ")
            print("{\"ms\": [\(ms)], \"kernels\": \"\(KernelISA.current)\"}")
        }
    }

    /// `--member`: the named file among the ensemble's classifiers, crop members and localisers, as one forward
    /// on its own input size (a classifier's without maps, a localiser's with its boxes read), so that the peers'
    /// head-to-head can time every member of a pipeline.
    private func servedMember(named name: String, in ensemble: ModelEnsemble) throws -> (inputSize: [Int], forward: ([Float]) -> Void) {
        let named = { (path: String) in (path as NSString).lastPathComponent == name }
        if let m = (ensemble.members + ensemble.cropMembers).first(where: { named($0.path) }) {
            return (m.classifier.info.inputSize, { _ = m.classifier.run(input: $0, maps: .none) })
        }
        if let l = ensemble.localisers.first(where: { named($0.path) }) {
            return (l.localiser.info.inputSize, { _ = l.localiser.run(input: $0) })
        }
        throw CommandFailure("--member \(TerminalSafeText.clean(name)): no such member in \(TerminalSafeText.clean(ensemble.path))")
    }

    /// Images per second through the first member as `evaluate` runs them (InferencePool: one image per core)
    /// and with one worker splitting each op over the cores; decode excluded (prepared tensors) and included
    /// (decode, resize, normalise, forward with Grad-CAM, like evaluate).
    private func measureThroughput(model: FractureClassifier, h: Int, w: Int) throws -> ThroughputLine? {
        if throughputImages == "none" { return nil }
        let dir: String
        if let throughputImages { dir = throughputImages } else {
            guard let sample = BundledSample.locate() else { return nil }
            dir = (sample as NSString).appendingPathComponent("test/images")
        }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { ["jpg", "jpeg", "png"].contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
            .map { (dir as NSString).appendingPathComponent($0) }
        guard !files.isEmpty else { throw CommandFailure("\(TerminalSafeText.clean(dir)): no JPEG or PNG images for --throughput-images") }
        let spec = model.inferenceSpec
        let prepare = { (path: String) -> [Float]? in
            guard let image = try? ImageDecoder.decode(path: path) else { return nil }
            return ModelInput.tensor(from: image, width: w, height: h, mean: spec.mean, std: spec.std)
        }
        let tensors = files.compactMap(prepare)
        let workers = InferencePool.workerCount(for: files.count)
        func rate(workers: Int, decode: Bool) -> Double {
            let t = DispatchTime.now()
            _ = InferencePool.map(count: files.count, classifier: model, workers: workers) { c, i -> Int in
                guard let x = decode ? prepare(files[i]) : tensors[i % tensors.count] else { return 0 }
                return c.run(input: x, maps: .all).predicted
            }
            return Double(files.count) / (ms(since: t) / 1000)
        }
        _ = rate(workers: workers, decode: false)  // warm the replicas' buffers
        // Best of three (the machine is shared): each figure is a whole pass over the images.
        let best = { (w: Int, d: Bool) in (0..<3).map { _ in rate(workers: w, decode: d) }.max()! }
        return ThroughputLine(images: files.count, workers: workers,
                              perCoreExcluded: best(workers, false), splitExcluded: best(1, false),
                              perCoreIncluded: best(workers, true), splitIncluded: best(1, true))
    }

    /// Each op's median time over the runs (ops are recorded in the same order every forward), and the median
    /// forward of those runs.
    private func profileLayers(model: FractureClassifier, input: [Float]) -> ([LayerLine], Double) {
        var runsByLayer = [[LayerProfile.Record]]()
        var totals = [Double]()
        for _ in 0..<runs {
            LayerProfile.start()
            let t = DispatchTime.now()
            _ = model.run(input: input, maps: .none)
            totals.append(ms(since: t))
            runsByLayer.append(LayerProfile.stop())
        }
        guard let first = runsByLayer.first else { return ([], 0) }
        let rows = first.indices.map { i in
            let ms = percentile(runsByLayer.map { Double($0[i].nanoseconds) / 1e6 }, 0.5)
            return LayerLine(index: i, op: first[i].op, shape: first[i].shape, ms: ms,
                             gflops: JSONOutput.finite(first[i].flops / (ms * 1e6)) ?? 0, flops: first[i].flops)
        }
        return (rows, percentile(totals, 0.5))
    }

    private func printLayers(_ rows: [LayerLine], forward: Double) {
        let total = rows.reduce(0) { $0 + $1.ms }
        Console.line("")
        Console.line("  #  op                   shape                      ms   GFLOP/s")
        for r in rows {
            Console.line(pad(String(r.index), 3, right: true) + "  " + pad(r.op, 20) + " " + pad(r.shape, 22) + " " +
                         pad(String(format: "%.3f", r.ms), 8, right: true) + "  " + pad(String(format: "%.1f", r.gflops), 7, right: true))
        }
        Console.line("")
        Console.line("by op                    layers       ms      %   GFLOP/s")
        var order = [String](), byOp = [String: (n: Int, ms: Double, flops: Double)]()
        for r in rows {
            if byOp[r.op] == nil { order.append(r.op) }
            let e = byOp[r.op] ?? (0, 0, 0)
            byOp[r.op] = (e.n + 1, e.ms + r.ms, e.flops + r.flops)
        }
        for op in order.sorted(by: { byOp[$0]!.ms > byOp[$1]!.ms }) {
            let e = byOp[op]!
            Console.line(pad(op, 22) + " " + pad(String(e.n), 7, right: true) + " " + pad(String(format: "%.2f", e.ms), 8, right: true) +
                         " " + pad(String(format: "%.1f", e.ms / max(total, 1e-9) * 100), 6, right: true) + "  " +
                         pad(String(format: "%.1f", e.flops / max(e.ms * 1e6, 1e-9)), 7, right: true))
        }
        Console.line(pad("sum of layers", 30) + " " + pad(String(format: "%.2f", total), 8, right: true) + " ms of a " +
                     String(format: "%.2f", forward) + " ms forward (median of the same runs)")
    }

    private func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, n - s.count))
        return right ? fill + s : s + fill
    }

    private func ms(since t: DispatchTime) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t.uptimeNanoseconds) / 1e6 }
    private func f1(_ v: Double) -> String { String(format: "%.1f", v) }
    private func f2(_ v: Double) -> String { String(format: "%.2f", v) }

    private func percentile(_ values: [Double], _ q: Double) -> Double {
        let s = values.sorted()
        guard !s.isEmpty else { return 0 }
        return s[min(s.count - 1, Int((Double(s.count - 1) * q).rounded()))]
    }

    /// VmHWM from /proc/self/status (Linux): the resident-set high-water mark.
    private func peakRSSMegabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return kb / 1024
        }
        return 0
    }
}

/// `fracview bench --json`: one line.
struct BenchLine: Encodable {
    let architecture: String, weightsID: String, inputSize: [Int], batch: Int, runs: Int
    let forwardMsMedian: Double, forwardMsP90: Double, forwardMsMin: Double
    let gradcamMsMedian: Double, attentionMsMedian: Double, explainExtraPercent: Double?
    let loadMs: Double, peakRssMb: Double, threads: Int, openblasCore: String
    /// The kernels' instruction set, and the CPU's (they differ under FRACVIEW_MAX_ISA).
    let kernelISA: String, supportedISA: String
    let members: Int
    let ensembleCaseMsMedian: Double?, ensembleCaseMsP90: Double?
    /// The same case without maps: what the peers' members case runs.
    let ensembleForwardsMsMedian: Double?, ensembleForwardsMsP90: Double?
    /// The localiser stage (0 and nils for a classifier alone).
    let localisers: Int, localiserInputSize: [Int]?, localiserMsMedian: Double?
    let pipelineCaseMsMedian: Double?, pipelineCaseMsP90: Double?
    let layers: [LayerLine]?
    let probabilities: [Float]
    let throughput: ThroughputLine?
    enum CodingKeys: String, CodingKey {
        case layers, probabilities, throughput
        case architecture, batch, runs, threads, members
        case weightsID = "weights_id", inputSize = "input_size"
        case forwardMsMedian = "forward_ms_median", forwardMsP90 = "forward_ms_p90", forwardMsMin = "forward_ms_min"
        case gradcamMsMedian = "gradcam_ms_median", attentionMsMedian = "attention_ms_median"
        case explainExtraPercent = "explain_extra_percent", loadMs = "load_ms", peakRssMb = "peak_rss_mb"
        case openblasCore = "openblas_core", kernelISA = "kernel_isa", supportedISA = "supported_isa"
        case ensembleCaseMsMedian = "ensemble_case_ms_median", ensembleCaseMsP90 = "ensemble_case_ms_p90"
        case ensembleForwardsMsMedian = "ensemble_forwards_ms_median", ensembleForwardsMsP90 = "ensemble_forwards_ms_p90"
        case localisers, localiserInputSize = "localiser_input_size", localiserMsMedian = "localiser_ms_median"
        case pipelineCaseMsMedian = "pipeline_case_ms_median", pipelineCaseMsP90 = "pipeline_case_ms_p90"
    }
}

/// One row of `bench --layers`.
struct LayerLine: Encodable {
    let index: Int, op: String, shape: String, ms: Double, gflops: Double, flops: Double
}

/// `bench --json`'s throughput: images/s one image per core (`workers` of them) and one worker splitting each op.
struct ThroughputLine: Encodable {
    let images: Int, workers: Int
    let perCoreExcluded: Double, splitExcluded: Double, perCoreIncluded: Double, splitIncluded: Double
    enum CodingKeys: String, CodingKey {
        case images, workers
        case perCoreExcluded = "images_per_s_per_core", splitExcluded = "images_per_s_split"
        case perCoreIncluded = "images_per_s_per_core_decode_included", splitIncluded = "images_per_s_split_decode_included"
    }
}
