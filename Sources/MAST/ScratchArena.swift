/// Owns the zero-initialised scratch buffers of one forward pass and frees them together.
/// Buffers are made once, when a model is loaded; a forward pass allocates nothing.
final class ScratchArena {
    private var allocations: [UnsafeMutablePointer<Float>] = []

    func make(_ count: Int) -> UnsafeMutablePointer<Float> {
        let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
        allocations.append(pointer)
        return pointer
    }

    deinit { allocations.forEach { $0.deallocate() } }
}
