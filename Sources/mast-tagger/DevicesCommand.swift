import ArgumentParser
import AudioInput

struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List ALSA capture devices (use one as --input alsa:NAME).")

    func run() throws {
        let devices = ALSACapture.listDevices()
        if devices.isEmpty {
            print("no capture devices found (no sound card, or no permission: is the user in the 'audio' group?)")
            return
        }
        let rows = [["device", "kind", "description"]] + devices.map { [$0.name, "\($0.kind)", $0.description] }
        print(alignedTable(rows, rightAligned: false))
    }
}
