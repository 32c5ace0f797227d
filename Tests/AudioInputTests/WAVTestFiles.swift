import Foundation

/// Builds WAV files byte by byte, so each header field (and each way of getting it wrong) is explicit.
enum WAVTestFile {
    struct Extensible {
        var validBits: Int
        var subformatTag: UInt16
    }

    static func bytes(tag: UInt16, channels: Int, rate: Int, bits: Int, data: [UInt8],
                      declaredDataSize: UInt32? = nil, extensible: Extensible? = nil,
                      chunksBeforeData: [(id: String, body: [UInt8])] = []) -> [UInt8] {
        let blockAlign = channels * bits / 8
        var fmt: [UInt8] = []
        fmt += le16(extensible == nil ? tag : 0xFFFE) + le16(UInt16(channels)) + le32(UInt32(rate))
        fmt += le32(UInt32(rate * blockAlign)) + le16(UInt16(blockAlign)) + le16(UInt16(bits))
        if let extensible {
            // cbSize, valid bits, channel mask, SubFormat GUID (tag + KSDATAFORMAT suffix)
            fmt += le16(22) + le16(UInt16(extensible.validBits)) + le32(channels == 2 ? 3 : 4)
            fmt += le16(extensible.subformatTag) + [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
        }
        var body = Array("WAVE".utf8) + chunk("fmt ", fmt)
        for extra in chunksBeforeData { body += chunk(extra.id, extra.body) }
        body += Array("data".utf8) + le32(declaredDataSize ?? UInt32(data.count)) + data
        return Array("RIFF".utf8) + le32(UInt32(body.count)) + body
    }

    static func write(_ bytes: [UInt8], to url: URL) throws {
        try Data(bytes).write(to: url)
    }

    private static func chunk(_ id: String, _ body: [UInt8]) -> [UInt8] {
        Array(id.utf8) + le32(UInt32(body.count)) + body + (body.count % 2 == 1 ? [0] : [])
    }

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { le16(UInt16(v & 0xFFFF)) + le16(UInt16(v >> 16)) }
}
