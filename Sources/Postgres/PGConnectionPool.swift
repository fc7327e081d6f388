import Synchronization
import Foundation
import Logging

/// A few connections used in turn, for readers that serve concurrent requests (the HTTP API):
/// each libpq connection runs one statement at a time on its own queue.
public final class PGConnectionPool: Sendable {
    private let connections: [PGConnection]
    private let counter = Counter()

    public init(url: String, size: Int, name: String, logger: Logger) {
        connections = (0..<max(1, size)).map { PGConnection(url: url, name: "\(name) \($0)", logger: logger) }
    }

    /// Runs `body` on the next connection in turn (connecting first when needed).
    @discardableResult
    public func run<T: Sendable>(_ body: @escaping @Sendable (PGSession) throws(PGError) -> T) async throws(PGError) -> T {
        try await connections[counter.next() % connections.count].run(body)
    }

    public func close() async {
        for connection in connections { await connection.close() }
    }

    private final class Counter: Sendable {
        private let value = Atomic<Int>(0)
        func next() -> Int { value.add(1, ordering: .relaxed).newValue }
    }
}
