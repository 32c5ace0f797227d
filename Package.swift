// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "mast-tagger",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mast-tagger", targets: ["mast-tagger"]),
        .library(name: "MAST", targets: ["MAST"]),
        .library(name: "Features", targets: ["Features"]),
        .library(name: "AudioInput", targets: ["AudioInput"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // System libraries: a [system] modulemap and a one-line shim header each.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CFFTW", pkgConfig: "fftw3f",
                       providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "CALSA", pkgConfig: "alsa",
                       providers: [.apt(["libasound2-dev"])]),

        // The MAST / AST inference engine: config, safetensors weights, kernels, forward pass.
        .target(name: "MAST", dependencies: ["COpenBLAS", "Features"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        // Kaldi-compatible log-mel filterbank on FFTW, computed incrementally.
        .target(name: "Features", dependencies: ["CFFTW"]),
        // Audio input: ALSA capture, WAV and raw-PCM readers, resampler, SPSC ring buffer.
        .target(name: "AudioInput", dependencies: [
            "CALSA",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Atomics", package: "swift-atomics"),
        ]),

        // The streaming pipeline after capture: windows, inference worker, event decoder, records, sinks.
        .target(name: "Tagger", dependencies: [
            "MAST", "Features", "AudioInput", "Yams",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),

        .executableTarget(name: "mast-tagger", dependencies: [
            "Tagger", "MAST", "Features", "AudioInput",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "MASTTests", dependencies: ["MAST", "Features"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TaggerTests", dependencies: [
            "Tagger",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
        ], resources: [.copy("Fixtures")]),
        // Runs the built binary as users and systemd do: signals, reloads, exit codes.
        .testTarget(name: "CommandLineTests", dependencies: ["mast-tagger"]),
        .testTarget(name: "AudioInputTests", dependencies: ["AudioInput"]),
        .testTarget(name: "FeaturesTests", dependencies: ["Features", "MAST"],
                    resources: [.copy("Fixtures")]),
    ]
)
