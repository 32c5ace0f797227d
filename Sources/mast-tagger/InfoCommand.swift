import ArgumentParser
import Foundation
import MAST

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Parameters, MACs per stage, token grid and width of an architecture or a model file (default: the installed model), and the arithmetic this CPU runs it in.")

    @OptionGroup var selection: ModelSelection

    @Flag(help: "One JSON object instead of a table.")
    var json = false

    func run() throws {
        var classes: Int?
        let config: ArchitectureConfig
        var source = selection.model
        if selection.architecture == nil && source == nil { source = try ModelLocator.resolve("") }
        if let path = source {
            let model = try Model(path: path)
            config = model.config
            classes = model.classes.count
        } else {
            config = try selection.preset(selection.architecture!)
        }
        let cost = ModelCost(config: config)
        if json {
            print(try jsonText(config: config, cost: cost, source: source))
        } else {
            print(table(config: config, cost: cost, classes: classes))
            print("engine on this CPU (precision: auto): \(Self.automaticArithmetic)")
        }
    }

    /// What `precision: auto` runs on this CPU, e.g. "int8 (avx-vnni kernel)".
    static var automaticArithmetic: String {
        Engine.defaultInt8Kernel.map { "int8 (\($0.rawValue) kernel)" } ?? "float32"
    }

    private func table(config: ArchitectureConfig, cost: ModelCost, classes: Int?) -> String {
        let seconds = String(format: "%.2f", Double(config.frames) / 100)
        var rows = [["part", "blocks", "grid F×T", "kv grid", "dim", "heads", "q stride", "parameters", "MACs"]]
        for part in cost.parts {
            rows.append([part.name, String(part.blocks), part.grid.description, part.kvGrid?.description ?? "-",
                         String(part.dim), String(part.heads), part.qStride.map { "\($0[0])×\($0[1])" } ?? "-",
                         grouped(part.parameters), grouped(part.macs)])
        }
        rows.append(["total", "", "", "", "", "", "", grouped(cost.parameters), grouped(cost.macs)])
        return ["\(config.name) (\(config.family.rawValue)): input \(config.melBins) mel × \(config.frames) frames (\(seconds) s), "
                + "\(classes ?? config.numClasses) classes",
                alignedTable(rows),
                String(format: "= %.2fM parameters, %.3f GMACs per window", Double(cost.parameters) / 1e6, Double(cost.macs) / 1e9)]
            .joined(separator: "\n")
    }

    private func jsonText(config: ArchitectureConfig, cost: ModelCost, source: String?) throws -> String {
        var object: [String: Any] = [
            "arch": config.name, "family": config.family.rawValue,
            "input": ["mel_bins": config.melBins, "frames": config.frames],
            "classes": config.numClasses, "parameters": cost.parameters, "macs": cost.macs,
            "stages": cost.parts.map { part -> [String: Any] in
                var entry: [String: Any] = ["name": part.name, "blocks": part.blocks, "grid": [part.grid.f, part.grid.t],
                                            "tokens": part.grid.count, "dim": part.dim, "heads": part.heads,
                                            "parameters": part.parameters, "macs": part.macs]
                if let kv = part.kvGrid { entry["kv_grid"] = [kv.f, kv.t] }
                if let stride = part.qStride { entry["q_stride"] = stride }
                return entry
            },
        ]
        if let source { object["model"] = source }
        object["engine_auto"] = Self.automaticArithmetic
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

/// 12345678 → "12,345,678".
func grouped(_ value: Int) -> String {
    let digits = String(value)
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return out
}

/// Rows as columns: the first left-aligned, the rest right-aligned (numbers) or left-aligned (text).
func alignedTable(_ rows: [[String]], rightAligned: Bool = true) -> String {
    let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max()! }
    return rows.map { row in
        row.enumerated().map { column, cell in
            let padding = String(repeating: " ", count: widths[column] - cell.count)
            return column == 0 || !rightAligned ? cell + padding : padding + cell
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}
