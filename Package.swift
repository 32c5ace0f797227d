// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "mast-tagger",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mast-tagger", targets: ["mast-tagger"]),
        .library(name: "MAST", targets: ["MAST"]),
        .library(name: "Features", targets: ["Features"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
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
        .target(name: "MAST", dependencies: ["COpenBLAS"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        // Kaldi-compatible log-mel filterbank on FFTW, computed incrementally.
        .target(name: "Features", dependencies: ["CFFTW"]),

        // The streaming pipeline after capture: windows, inference worker, event decoder, records, sinks.
        .target(name: "Tagger", dependencies: ["MAST", "Features"]),

        .executableTarget(name: "mast-tagger", dependencies: [
            "Tagger",
            "MAST", "Features",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "MASTTests", dependencies: ["MAST", "Features"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TaggerTests", dependencies: ["Tagger"]),
        .testTarget(name: "FeaturesTests", dependencies: ["Features", "MAST"],
                    resources: [.copy("Fixtures")]),
    ]
)
