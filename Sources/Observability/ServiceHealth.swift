import Synchronization

/// What a process depends on and whether each is reachable now: `amqp`, `postgres`, ….
/// Ready means every dependency is up; the HTTP side serves it as `/health/ready`.
public final class ServiceHealth: Sendable {
    private struct State {
        var up: [String: Bool]
        /// Which server of a dependency answers, as last probed (`postgres`: "standby 127.0.0.1:55443").
        var servers: [String: String] = [:]
    }

    private let state: Mutex<State>

    /// `dependencies` start as down until reported up.
    public init(dependencies: [String]) {
        state = Mutex(State(up: Dictionary(uniqueKeysWithValues: dependencies.map { ($0, false) })))
    }

    /// Records the dependency's reachability and, when known, which server answered.
    public func set(_ dependency: String, up: Bool, server: String? = nil) {
        state.withLock {
            $0.up[dependency] = up
            if let server { $0.servers[dependency] = server }
        }
    }

    public var snapshot: [String: Bool] { state.withLock { $0.up } }

    /// Which server answers for each dependency that says (readiness shows it).
    public var servers: [String: String] { state.withLock { $0.servers } }

    public var isReady: Bool { state.withLock { $0.up.values.allSatisfy { $0 } } }
}
