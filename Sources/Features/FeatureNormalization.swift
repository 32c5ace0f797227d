/// AST's input normalisation, `(x - mean) / (2 * std)`, in place.
///
/// `mean` and `std` are one scalar pair over the whole log-mel training set (AudioSet:
/// -4.2677393, 4.5689974), so every frame can be normalised on its own as it streams. They come
/// from the model file, since a model only works on the statistics it was trained with.
/// - Parameter features: any number of log-mel values, e.g. one [numMelBins] frame.
public func normalizeFeatures(_ features: UnsafeMutableBufferPointer<Float>, mean: Float, std: Float) {
    let scale = std * 2
    for i in features.indices {
        features[i] = (features[i] - mean) / scale
    }
}

/// `normalizeFeatures` over a whole array, e.g. a row-major [frames, numMelBins] window.
public func normalizeFeatures(_ features: inout [Float], mean: Float, std: Float) {
    features.withUnsafeMutableBufferPointer { normalizeFeatures($0, mean: mean, std: std) }
}
