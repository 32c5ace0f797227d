import AudioInput

// The configuration's spellings of the audio types it names, so that `input.channel` and
// `input.stdin_format` are checked when the file is loaded and carried as the types the
// readers take.

/// `input.channel`: "mix" (the mean of all channels) or a channel number from 0.
extension ChannelSelection: Codable {
    public init(parsing text: String) throws {
        if text == "mix" {
            self = .average
            return
        }
        let most = AudioFormat.channelCounts.upperBound - 1
        guard let index = Int(text), (0 ... most).contains(index) else {
            throw ConfigError(key: "input.channel", reason: "'\(text)' is neither \"mix\" nor a channel number 0…\(most)")
        }
        self = .channel(index)
    }

    public init(from decoder: Decoder) throws {
        self = try decodeParsed(from: decoder, Self.init(parsing:))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .average: try container.encode("mix")
        case .channel(let index): try container.encode(String(index))
        }
    }
}

/// `input.stdin_format`: s16le, s24le, s32le or f32le (ALSA spellings such as S16_LE too).
extension SampleFormat: Codable {
    public init(parsing text: String) throws {
        guard let format = SampleFormat(name: text) else {
            throw ConfigError(key: "input.stdin_format", reason: "'\(text)' is not one of s16le, s24le, s32le, f32le")
        }
        self = format
    }

    /// The configuration's spelling.
    var configName: String {
        switch self {
        case .s16LE: "s16le"
        case .s24_3LE: "s24le"
        case .s32LE: "s32le"
        case .float32LE: "f32le"
        }
    }

    public init(from decoder: Decoder) throws {
        self = try decodeParsed(from: decoder, Self.init(parsing:))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(configName)
    }
}
