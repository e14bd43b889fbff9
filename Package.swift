// swift-tools-version:5.10
import PackageDescription

// The targets follow the pipeline: Basics (what every module shares: one-line errors, atomic files, terminal-safe
// text and escapes, the FeatureMap and ImageBox values) → Engine → Model (the classifier and the localiser
// (Model/Localiser), their weights, the CAM methods' registry in Model/CAM and the CAMRequest a forward is given,
// one Prediction type) → Imaging (decoding, drawing, thumbnails; it does not know the model) → the review layer (Datasets, Audit, Store,
// Inference, Metrics, Reports, Review; see below) → Terminal (the review screen) → fracview (the commands).
let package = Package(
    name: "fracview",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "fracview", targets: ["fracview"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.0"),
    ],
    targets: [
        // System libraries, found through pkg-config; `providers` tells SwiftPM which apt package is missing.
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CNcursesw", path: "Sources/CNcursesw", pkgConfig: "ncursesw",
                       providers: [.apt(["libncurses-dev"])]),
        .systemLibrary(name: "CSixel", path: "Sources/CSixel", pkgConfig: "libsixel",
                       providers: [.apt(["libsixel-dev"])]),
        // PostgreSQL's C client: the shared review store for a team (it reads PG* variables and ~/.pgpass itself).
        .systemLibrary(name: "CPQ", path: "Sources/CPQ", pkgConfig: "libpq",
                       providers: [.apt(["libpq-dev"])]),
        .target(name: "CCodecs", dependencies: ["CJPEG", "CPNG"], path: "Sources/CCodecs"),
        .target(name: "CTerminal", path: "Sources/CTerminal"),
        // DICOM through DCMTK (Debian libdcmtk-dev): a small C++ shim with a C interface — decoding (dicom.cpp) and
        // the findings sent to a PACS, a TID 1500 SR and a presentation state (findings.cpp). DCMTK's pkg-config file
        // needs libsndfile's, so the libraries are named here.
        .target(name: "CDicom", path: "Sources/CDicom",
                linkerSettings: [.linkedLibrary("cmr"), .linkedLibrary("dcmsr"), .linkedLibrary("dcmpstat"), .linkedLibrary("dcmimage"), .linkedLibrary("dcmimgle"), .linkedLibrary("dcmjpeg"), .linkedLibrary("dcmjpls"),
                                 .linkedLibrary("dcmdata"), .linkedLibrary("oflog"), .linkedLibrary("ofstd")]),

        // The engine's hot loops in C, built for baseline x86-64 and AVX2+FMA with run-time dispatch.
        .target(name: "CEngineKernels", path: "Sources/CEngineKernels"),
        // What every module shares and nothing in it computes: the one-line error, atomic file writing, terminal-safe
        // text and escapes, where resources are found, a lock, and the two geometric values every stage passes on
        // (FeatureMap, ImageBox). No engine underneath, so the data modules don't link OpenBLAS through it.
        .target(name: "Basics", path: "Sources/Basics"),
        .target(name: "Engine", dependencies: ["COpenBLAS", "CEngineKernels"], path: "Sources/Engine"),
        .target(name: "Model", dependencies: ["Basics", "Engine", .product(name: "Crypto", package: "swift-crypto")], path: "Sources/Model"),
        .target(name: "Imaging", dependencies: ["Basics", "CCodecs", "CDicom"], path: "Sources/Imaging"),
        // The review layer, one module per concept, in pipeline order: Datasets (data.yaml, labels, splits,
        // manifests, CSV, the CaseSource seam: a folder's cases) → PACS (a DICOMweb server's cases and the findings
        // sent back) and Audit (duplicates, leakage, groups, label issues, training signatures) and Store
        // (decisions and the prediction cache; the only module with GRDB and libpq) → Inference (the case
        // pipeline: decoded images, each stage's input, the runner, ensembles and their localiser stage) → Metrics
        // (metrics, the pointing game and localisation scores, evaluation, reader agreement) → Reports (the text reports, figures, progress bar) and Review (the session, filters, the screen's
        // protocols) → Terminal.
        .target(name: "Datasets", dependencies: ["Basics", "Imaging", "Yams", .product(name: "CSV", package: "CSV.swift")],
                path: "Sources/Datasets"),
        .target(name: "Audit", dependencies: ["Basics", "Model", "Imaging", "Datasets"], path: "Sources/Audit"),
        // A PACS as a case source (DICOMweb: QIDO-RS, WADO-RS into a local instance cache) and as the place findings
        // go back to (STOW-RS of the DICOM SR and presentation state CDicom writes).
        .target(name: "PACS", dependencies: ["Basics", "Model", "Imaging", "Datasets", "CDicom", .product(name: "Crypto", package: "swift-crypto")], path: "Sources/PACS"),
        .target(name: "Store", dependencies: ["Basics", "Model", "Imaging", "Datasets", "CPQ", .product(name: "GRDB", package: "GRDB.swift")],
                path: "Sources/Store"),
        .target(name: "Inference", dependencies: ["Basics", "Engine", "Model", "Imaging", "Datasets", "Audit", "Store"], path: "Sources/Inference"),
        .target(name: "Metrics", dependencies: ["Basics", "Model", "Imaging", "Datasets", "Audit", "Store", "Inference"], path: "Sources/Metrics"),
        .target(name: "Reports", dependencies: ["Basics", "Model", "Imaging", "Datasets", "Audit", "Metrics"], path: "Sources/Reports"),
        .target(name: "Review", dependencies: ["Basics", "Model", "Datasets", "Audit", "Store", "Inference", "Metrics"],
                path: "Sources/Review"),
        .target(name: "Terminal", dependencies: ["Basics", "Model", "Imaging", "Datasets", "Store", "Inference", "Metrics", "Review",
                                                 "CNcursesw", "CSixel", "CTerminal", "Yams"],
                path: "Sources/Terminal"),
        .executableTarget(name: "fracview",
                          dependencies: ["Basics", "Engine", "Model", "Imaging", "Datasets", "Audit", "Store", "Inference", "Metrics",
                                         "Reports", "Review", "Terminal", "PACS",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Sources/fracview"),

        // Fuzzing: the parsers' harnesses, the libFuzzer driver (scripts/fuzz.sh) and their replay tests.
        .target(name: "FuzzHarnesses", dependencies: ["Basics", "Model", "Imaging", "Datasets", "Audit", "Store", "Review", "Terminal", "PACS"],
                path: "Sources/FuzzHarnesses"),
        .executableTarget(name: "fracview-fuzz", dependencies: ["FuzzHarnesses"], path: "Sources/fracview-fuzz"),

        .testTarget(name: "EngineTests", dependencies: ["Basics", "Engine", "CEngineKernels", "Model", "Imaging"], path: "Tests/EngineTests"),
        .testTarget(name: "ImagingTests", dependencies: ["Basics", "Imaging", "Model", "Reports"], path: "Tests/ImagingTests"),
        .testTarget(name: "ReviewTests", dependencies: ["Basics", "Model", "Imaging", "Datasets", "Audit", "Store", "Inference", "Metrics",
                                                    "Reports", "Review", .product(name: "GRDB", package: "GRDB.swift")],
                    path: "Tests/ReviewTests"),
        // The pty helpers only the TUI tests use.
        .target(name: "CPseudoTerminal", path: "Tests/CPseudoTerminal"),
        .testTarget(name: "TerminalTests", dependencies: ["Basics", "Terminal", "Review", "Engine", "Model", "Imaging", "Datasets", "Audit",
                                                      "Store", "Inference", "Metrics", "CSixel", "CPseudoTerminal"],
                    path: "Tests/TerminalTests"),
        .testTarget(name: "PACSTests", dependencies: ["Basics", "PACS", "Datasets", "Imaging", "Model"], path: "Tests/PACSTests"),
        .testTarget(name: "FuzzTests", dependencies: ["FuzzHarnesses"], path: "Tests/FuzzTests"),
    ]
)
