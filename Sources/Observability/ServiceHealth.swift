import Synchronization

/// What a process depends on and whether each is reachable now: `amqp`, `postgres`, ….
/// Ready means every dependency is up; the HTTP side serves it as `/health/ready`.
public final class ServiceHealth: Sendable {
    private let checks: Mutex<[String: Bool]>

    /// `dependencies` start as down until reported up.
    public init(dependencies: [String]) {
        checks = Mutex(Dictionary(uniqueKeysWithValues: dependencies.map { ($0, false) }))
    }

    public func set(_ dependency: String, up: Bool) {
        checks.withLock { $0[dependency] = up }
    }

    public var snapshot: [String: Bool] { checks.withLock { $0 } }

    public var isReady: Bool { checks.withLock { $0.values.allSatisfy { $0 } } }
}
