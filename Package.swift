// swift-tools-version:6.0
// lstv-node: a DICOM node that flags lumbosacral transitional vertebrae.
// Modules by domain; data flows one way: association → spool → series → analysis → flag + report → outbox.
import PackageDescription

let dcmtkLibraries = [
    "cmr", "dcmtls", "dcmnet", "dcmsr", "dcmjpls", "dcmjpeg", "dcmimage", "dcmimgle", "dcmdata",
    "oflog", "ofstd", "ijg8", "ijg12", "ijg16", "dcmtkcharls", "ssl", "crypto",
    // JPEG 2000 / HTJ2K decoding (DCMTK 3.6.7 has no codec for them).
    "openjp2",
].map { LinkerSetting.linkedLibrary($0) }

let package = Package(
    name: "lstv-node",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "lstv-node", targets: ["LSTVNodeCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // The only code that includes DCMTK: association handling, dataset access, pixel decode,
        // SR/SC writers, JPEG 2000 decoding through OpenJPEG, behind an extern "C" API with plain C types.
        .target(
            name: "CDICOM",
            path: "Sources/CDICOM",
            cxxSettings: [.unsafeFlags(["-fno-strict-aliasing"])],
            linkerSettings: dcmtkLibraries
        ),
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ"),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),

        // DICOM I/O: the Swift face of CDICOM.
        .target(name: "DICOM", dependencies: ["CDICOM", "Records"]),
        // The network engine: tensors, kernels, safetensors models. Knows nothing of DICOM.
        .target(name: "Engine", dependencies: ["COpenBLAS", "CKernels", .product(name: "Crypto", package: "swift-crypto")]),
        // The engine's hot loops in C: AVX-512 intrinsics chosen at run time, portable C otherwise.
        // -O2 even in debug builds, so the engine's golden tests do not crawl through -O0 intrinsics.
        .target(name: "CKernels", path: "Sources/CKernels", cSettings: [.unsafeFlags(["-O2"])]),
        // Series → volume → preprocessing → engine → metrics → ladder → suspicion → risk. Knows nothing of the network or database.
        .target(name: "Analysis", dependencies: ["Engine", "DICOM", "Records"]),
        // The records the node's modules hand each other (series descriptors, routes, model identity,
        // DICOM peers): plain values, no behaviour beyond parsing, so policy and storage share them.
        .target(name: "Records"),
        // The audit trail: DICOM audit messages (PS3.15 A.5, IHE ATNA) as RFC 5424 records in a file
        // of their own and, when configured, to a syslog collector. Knows nothing of the node.
        .target(name: "Audit", dependencies: [.product(name: "Logging", package: "swift-log")]),
        // PostgreSQL: connections, migrations, typed queries. The only module that writes SQL.
        .target(name: "Store", dependencies: ["CLibPQ", "Records"]),
        // Analysed series as a cohort: loaded from analyze output or the database, for calibration,
        // the cohort report and exports.
        .target(name: "Cohort", dependencies: ["Analysis", "Records", "Store", .product(name: "Crypto", package: "swift-crypto")]),
        // Charts as inline SVG text: pure functions from numbers to markup, for reports and web pages.
        .target(name: "Charts"),
        // 8-bit RGB images and a small PNG encoder: the report's thumbnails, the web face's /rendered.
        .target(name: "Raster"),
        // The cohort report: one self-contained HTML page (charts, top candidates with key-image
        // thumbnails, ROC/PR against labels) from a cohort.
        .target(name: "CohortReport", dependencies: [
            "Cohort", "Charts", "Analysis", "Records", "DICOM", "Raster",
            .product(name: "Mustache", package: "swift-mustache"),
        ]),
        // The node's web face: health, Prometheus metrics, the JSON API, DICOMweb (STOW, QIDO, WADO, rendered),
        // bearer tokens and sessions, the dashboard's pages (Hummingbird 2, swift-mustache). Its OpenAPI
        // document is a resource (Sources/Web/openapi.yaml; docs/openapi.yaml links to it).
        .target(name: "Web", dependencies: [
            "Audit", "Records", "Store", "Analysis", "DICOM", "Raster", "Cohort", "CohortReport",
            .product(name: "Mustache", package: "swift-mustache"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], resources: [.copy("openapi.yaml")]),
        // The node: ingest, series assembly, routing, scheduling, outbox, daemon plumbing.
        .target(name: "Node", dependencies: [
            "Audit", "DICOM", "Records", "Store", "Analysis", "Engine", "Web",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Yams", package: "Yams"),
        ]),
        // The command line.
        .executableTarget(name: "LSTVNodeCLI", dependencies: [
            "Node", "Cohort", "CohortReport", "Records", "Analysis", "DICOM", "Engine", "Web",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Benchmark: the engine against PyTorch and onnxruntime (bench/localizer/run.sh drives it).
        .executableTarget(name: "localizer-bench", dependencies: ["Engine"], path: "bench/localizer/swift"),

        // Test support, used only by test targets: a fresh database on the test cluster, the shared
        // study data, waiting for a condition (TestSupport); counting malloc calls (MallocCounter:
        // EngineTests proves a session's run allocates nothing).
        .target(name: "TestSupport", dependencies: ["Store"], path: "Tests/TestSupport"),
        .target(name: "MallocCounter", path: "Tests/MallocCounter"),
        .testTarget(name: "DICOMTests", dependencies: ["DICOM", "Records", "TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "CKernels", "MallocCounter"], resources: [.copy("Fixtures")]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "Engine", "DICOM", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "WebTests", dependencies: [
            "Web", "Raster", "Records", "Analysis", "Store", "Cohort", .product(name: "Hummingbird", package: "hummingbird"),
        ]),
        .testTarget(name: "CohortTests", dependencies: ["Cohort", "Records"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Records", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "ChartsTests", dependencies: ["Charts"]),
        .testTarget(name: "AuditTests", dependencies: ["Audit", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "CohortReportTests", dependencies: ["CohortReport", "Cohort", "Charts", "Analysis", "Records", "DICOM", "Raster", "TestSupport"]),
        .testTarget(name: "NodeTests", dependencies: [
            "Node", "Records", "Store", "DICOM", "Analysis", "Engine", "TestSupport",
            .product(name: "Logging", package: "swift-log"),
        ]),
    ],
    swiftLanguageModes: [.v5],
    cxxLanguageStandard: .cxx17
)
