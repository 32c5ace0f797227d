// swift-tools-version:6.0
import PackageDescription

// The engine's own kernels (matrix products, attention, pooling, LayerNorm, GELU) are written on
// SIMD8<Float>, and the fbank's loops are left to the compiler to vectorise; without a target CPU
// Swift emits baseline x86-64 (SSE2, no FMA) for both. Haswell (AVX2 + FMA, every x86-64 CPU since 2013 but some Atoms) runs them 8 wide with
// fused multiply-adds. `MAST_TARGET_CPU=x86-64 swift build` builds for older x86 processors;
// other architectures keep the compiler's default.
#if arch(x86_64)
let engineCPU = Context.environment["MAST_TARGET_CPU"] ?? "haswell"
let engineCPUFlags = ["-target-cpu", engineCPU]
#else
let engineCPUFlags: [String] = []
#endif

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
        // The HTTP endpoint (metrics, health, the live page): off unless `http.listen` is set.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // System libraries: a [system] modulemap and a one-line shim header each.
        .systemLibrary(name: "CFFTW", pkgConfig: "fftw3f",
                       providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "CALSA", pkgConfig: "alsa",
                       providers: [.apt(["libasound2-dev"])]),
        // Eclipse Mosquitto's MQTT client library (MQTT 3.1.1 and 5, TLS).
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto",
                       providers: [.apt(["libmosquitto-dev"])]),
        // Xiph's FLAC encoder, for clips in `format: flac`.
        .systemLibrary(name: "CFLAC", pkgConfig: "flac",
                       providers: [.apt(["libflac-dev"])]),

        // The MAST / AST inference engine: weights, kernels, forward pass. Built -Ounchecked for
        // its kernels; everything it reads from a file is checked in ModelFile before it gets here.
        .target(name: "MAST", dependencies: ["CQuantizedKernels", "Features", "ModelFile"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"] + engineCPUFlags)]),
        // Model files, parsed and validated with Swift's checks on: the safetensors reader, the
        // architecture and its bounds, the errors that name a file's tensor or field.
        .target(name: "ModelFile"),
        // The int8 matrix product (AVX-VNNI intrinsics, chosen at run time): the one kernel Swift can't express.
        .target(name: "CQuantizedKernels"),
        // Puts /dev/null on standard descriptors closed at start, before anything can reuse their numbers.
        .target(name: "CStandardDescriptors"),
        // Kaldi-compatible log-mel filterbank on FFTW, computed incrementally.
        .target(name: "Features", dependencies: ["CFFTW"],
                swiftSettings: [.unsafeFlags(engineCPUFlags)]),
        // Audio input: ALSA capture, WAV and raw-PCM readers, resampler, SPSC ring buffer.
        .target(name: "AudioInput", dependencies: [
            "CALSA",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Atomics", package: "swift-atomics"),
        ]),

        // The streaming pipeline after capture: windows, inference worker, event decoder, records, sinks.
        .target(name: "Tagger", dependencies: [
            "MAST", "Features", "AudioInput", "Yams", "CMosquitto", "CFLAC",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),

        .executableTarget(name: "mast-tagger", dependencies: [
            "Tagger", "MAST", "Features", "AudioInput", "CStandardDescriptors",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "MASTTests", dependencies: ["MAST", "ModelFile", "Features", "CQuantizedKernels", "CAllocationCounter"],
                    resources: [.copy("Fixtures")]),
        // Counts one thread's heap allocations (malloc and friends, interposed in the test process).
        .target(name: "CAllocationCounter", path: "Tests/CAllocationCounter"),
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

// Coverage-guided fuzzing of the parsers of untrusted input (`make fuzz`): only with MAST_FUZZ
// set, because the target's main calls libFuzzer's driver, which only a `-sanitize=fuzzer` build
// links; its own scratch path keeps the instrumented objects apart:
//     MAST_FUZZ=1 swift build --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer \
//         -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld --product mast-fuzz
if Context.environment["MAST_FUZZ"] != nil {
    package.targets += [
        .target(name: "CFuzzerDriver", path: "Fuzz/CFuzzerDriver"),
        .executableTarget(name: "mast-fuzz", dependencies: [
            "Tagger", "MAST", "AudioInput", "CFuzzerDriver",
            .product(name: "Logging", package: "swift-log"),
        ], path: "Fuzz/mast-fuzz"),
    ]
    package.products += [.executable(name: "mast-fuzz", targets: ["mast-fuzz"])]
}
