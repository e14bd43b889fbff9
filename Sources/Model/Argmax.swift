/// The index of the largest value: the first one on ties (as `torch.argmax`), 0 for an empty array. The one
/// definition of "the predicted class" for every layer from the head to the screen.
public func argmax(_ values: [Float]) -> Int {
    var best = 0
    for i in values.indices where values[i] > values[best] { best = i }
    return best
}
