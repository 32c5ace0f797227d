import ArgumentParser
import Foundation
import MAST

/// Milliseconds per window and achieved GFLOP/s, beside the sgemm GFLOP/s this machine reaches
/// on large square matrices (measured in the same run, so the fraction is like for like).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time one window's forward pass per architecture (a benchmark, not a test).")

    @OptionGroup var selection: ModelSelection

    @Option(help: "A safetensors file whose `features` tensor [frames, mel] is the input (default: seeded noise).")
    var input: String?

    @Option(help: "Engine threads, and OpenBLAS threads for the sgemm reference (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Linear-layer precision: f32, or int8 (needs AVX2; MAST_INT8_KERNEL picks the kernel).")
    var precision: MatrixPrecision = .float32

    @Option(help: "Timed forward passes per architecture (after two warm-up passes); the median is reported.")
    var iterations: Int = 10

    @Option(help: "Size of the square sgemm that measures the machine's reference GFLOP/s (0 skips it).")
    var sgemmSize: Int = 2048

    @Flag(help: "One JSON object per architecture, one per line.")
    var json = false

    func validate() throws {
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
        guard iterations > 0 else { throw ValidationError("--iterations must be positive") }
        guard precision == .float32 || Engine.int8Supported else {
            throw ValidationError("--precision int8 needs \(Engine.int8Requirement); this one is not")
        }
        if input != nil && selection.model == nil && selection.architecture == nil {
            throw ValidationError("--input needs --model or --arch")
        }
    }

    func run() throws {
        let engine = EngineOptions(threads: threads, precision: precision)
        if let problem = engine.problem { throw ValidationError(problem) }
        let peak = sgemmSize > 0 ? try OpenBLASReference().gflops(size: sgemmSize, threads: threads) : nil
        if !json, let peak { print(String(format: "sgemm %d×%d: %.1f GFLOP/s on %d thread(s)", sgemmSize, sgemmSize, peak, threads)) }

        let models: [Model]
        if let path = selection.model {
            models = [try Model(path: path, options: engine)]
        } else {
            let names = selection.architecture.map { [$0] } ?? ArchitectureConfig.presets.keys.sorted()
            models = try names.map { try Model(randomWeights: selection.preset($0), options: engine) }
        }
        for model in models {
            let features = try inputFeatures(for: model.config)
            let times = try timeForward(model, features: features)
            let median = times.sorted()[times.count / 2]
            let macs = ModelCost(config: model.config).macs
            let gflops = 2 * Double(macs) / median / 1e9
            if json {
                var object: [String: Any] = [
                    "arch": model.config.name, "ms_per_window": median * 1000, "gflops": gflops, "macs": macs,
                    "threads": threads, "precision": precision.rawValue, "iterations": iterations, "frames": model.config.frames, "weights": model.source,
                    "ms_min": times.min()! * 1000, "ms_max": times.max()! * 1000,
                ]
                if let peak {
                    object["sgemm_gflops"] = peak
                    object["fraction_of_sgemm"] = gflops / peak
                }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                let fraction = peak.map { String(format: " (%.0f%% of sgemm)", 100 * gflops / $0) } ?? ""
                print(String(format: "%-8@ %9.2f ms/window (min %.2f, max %.2f)  %7.1f GFLOP/s%@  %.3f GMACs",
                             model.config.name, median * 1000, times.min()! * 1000, times.max()! * 1000, gflops, fraction,
                             Double(macs) / 1e9))
            }
        }
    }

    private func inputFeatures(for config: ArchitectureConfig) throws -> [Float] {
        let count = config.frames * config.melBins
        guard let input else {
            var generator = SplitMix64(seed: 7)
            return (0 ..< count).map { _ in generator.nextUniform() }
        }
        let tensor = try SafeTensorsFile(path: input).tensor("features")
        guard tensor.shape == [config.frames, config.melBins] else {
            throw ValidationError("\(input): features has shape \(tensor.shape), the model needs [\(config.frames), \(config.melBins)]")
        }
        return tensor.floats()
    }

    private func timeForward(_ model: Model, features: [Float]) throws -> [Double] {
        var logits = [Float](repeating: 0, count: model.config.numClasses)
        return features.withUnsafeBufferPointer { input in
            logits.withUnsafeMutableBufferPointer { output in
                for _ in 0 ..< 2 { model.classify(features: input, logits: output) }
                return (0 ..< iterations).map { _ in
                    seconds { model.classify(features: input, logits: output) }
                }
            }
        }
    }
}

/// Wall-clock seconds `body` takes.
func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

extension MatrixPrecision: ExpressibleByArgument {}
