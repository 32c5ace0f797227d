/// The indices of the `count` highest scores, highest first, ties in index order (what a stable
/// sort by score would give). One pass that keeps the best so far, O(classes × count): a `tags`
/// record and the live view want 3–5 of 521 classes for every window, not all 521 sorted.
func topIndices(of scores: [Float], count: Int) -> [Int] {
    guard count > 0 else { return [] }
    var best: [Int] = []
    best.reserveCapacity(count + 1)
    for index in scores.indices {
        let score = scores[index]
        if best.count == count, !(score > scores[best[count - 1]]) { continue }
        var at = best.count
        while at > 0, scores[best[at - 1]] < score { at -= 1 }
        best.insert(index, at: at)
        if best.count > count { best.removeLast() }
    }
    return best
}
