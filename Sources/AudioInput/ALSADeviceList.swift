import CALSA
import Foundation

/// One entry of `mast-tagger devices`: a name to pass as the capture device, and what it is.
public struct ALSADeviceInfo: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// A PCM from alsa-lib's configuration (`default`, `sysdefault:CARD=…`, `plughw:…`, an asoundrc PCM).
        case pcm
        /// A capture device on a sound card, addressed directly (`hw:CARD=…,DEV=…`).
        case hardware
    }

    public let name: String
    /// alsa-lib's description (newlines folded), or card and device names for hardware.
    public let description: String
    public let kind: Kind
}

extension ALSACapture {
    /// Capture-capable devices: the PCMs alsa-lib's configuration hints at (those hinted as
    /// output-only are left out), then every capture device of every sound card. Without a
    /// sound card this lists only configuration PCMs such as `null` and `default`.
    public static func listDevices() -> [ALSADeviceInfo] {
        hintedPCMs() + hardwareCaptureDevices()
    }

    private static func hintedPCMs() -> [ALSADeviceInfo] {
        var hints: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
        guard snd_device_name_hint(-1, "pcm", &hints) >= 0, let hints else { return [] }
        defer { snd_device_name_free_hint(hints) }
        var devices: [ALSADeviceInfo] = []
        var entry = hints
        while let hint = entry.pointee {
            entry += 1
            // IOID is absent for PCMs that do both directions, "Input" or "Output" otherwise.
            if hintString(hint, "IOID") == "Output" { continue }
            guard let name = hintString(hint, "NAME") else { continue }
            let description = (hintString(hint, "DESC") ?? "")
                .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " — ")
            devices.append(ALSADeviceInfo(name: name, description: description, kind: .pcm))
        }
        return devices
    }

    private static func hintString(_ hint: UnsafeMutableRawPointer, _ id: String) -> String? {
        guard let value = snd_device_name_get_hint(hint, id) else { return nil }
        defer { free(value) }
        return String(cString: value)
    }

    private static func hardwareCaptureDevices() -> [ALSADeviceInfo] {
        var devices: [ALSADeviceInfo] = []
        var info: OpaquePointer?
        var cardInfo: OpaquePointer?
        guard snd_pcm_info_malloc(&info) >= 0, let info else { return [] }
        defer { snd_pcm_info_free(info) }
        guard snd_ctl_card_info_malloc(&cardInfo) >= 0, let cardInfo else { return [] }
        defer { snd_ctl_card_info_free(cardInfo) }

        var card: Int32 = -1
        while snd_card_next(&card) >= 0, card >= 0 {
            var ctl: OpaquePointer?
            guard snd_ctl_open(&ctl, "hw:\(card)", 0) >= 0, let ctl else { continue }
            defer { snd_ctl_close(ctl) }
            guard snd_ctl_card_info(ctl, cardInfo) >= 0 else { continue }
            let cardID = String(cString: snd_ctl_card_info_get_id(cardInfo))
            let cardName = String(cString: snd_ctl_card_info_get_name(cardInfo))
            var device: Int32 = -1
            while snd_ctl_pcm_next_device(ctl, &device) >= 0, device >= 0 {
                snd_pcm_info_set_device(info, UInt32(device))
                snd_pcm_info_set_subdevice(info, 0)
                snd_pcm_info_set_stream(info, SND_PCM_STREAM_CAPTURE)
                guard snd_ctl_pcm_info(ctl, info) >= 0 else { continue }   // no capture on this device
                let pcmName = String(cString: snd_pcm_info_get_name(info))
                devices.append(ALSADeviceInfo(name: "hw:CARD=\(cardID),DEV=\(device)",
                                              description: "\(cardName): \(pcmName) (card \(card), device \(device))",
                                              kind: .hardware))
            }
        }
        return devices
    }
}
