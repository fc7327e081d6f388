/// Capped exponential backoff with jitter, for reconnecting to brokers and databases.
public struct Backoff: Sendable {
    public var initial: Double
    public var maximum: Double
    private var attempt = 0

    public init(initial: Double = 0.2, maximum: Double = 10) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The next delay in seconds: initial × 2ⁿ, capped, with up to 20% jitter so that many
    /// processes reconnecting after one broker restart do not arrive together.
    public mutating func next(jitter: Double = Double.random(in: 0...1)) -> Double {
        let base = min(maximum, initial * Double(1 << min(attempt, 20)))
        attempt += 1
        return base * (0.8 + 0.2 * jitter)
    }

    public mutating func reset() { attempt = 0 }
}
