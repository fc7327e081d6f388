import Foundation

/// What a process depends on and whether each is reachable now: `amqp`, `postgres`, ….
/// Ready means every dependency is up; the HTTP side serves it as `/health/ready`.
public final class ServiceHealth: @unchecked Sendable {
    private let lock = NSLock()
    private var checks: [String: Bool] = [:]

    /// `dependencies` start as down until reported up.
    public init(dependencies: [String]) {
        for name in dependencies { checks[name] = false }
    }

    public func set(_ dependency: String, up: Bool) {
        lock.withLock { checks[dependency] = up }
    }

    public var snapshot: [String: Bool] { lock.withLock { checks } }

    public var isReady: Bool { lock.withLock { checks.values.allSatisfy { $0 } } }
}
