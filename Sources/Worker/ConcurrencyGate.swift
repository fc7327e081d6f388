/// At most `limit` commands of one worker run at once (each holds ssh sessions and glusterd's
/// attention); the rest wait their turn in arrival order. A task cancelled while it waits stops
/// waiting at once (with `CancellationError`) and takes no permit.
actor ConcurrencyGate {
    private var available: Int
    private var waiting: [(id: UInt64, continuation: CheckedContinuation<Void, Error>)] = []
    private var nextID: UInt64 = 0

    init(limit: Int) { available = max(1, limit) }

    /// Runs `body` holding a permit, and gives the permit back however `body` ends.
    nonisolated func withPermit<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await acquire()
        do {
            let result = try await body()
            await release()
            return result
        } catch {
            await release()
            throw error
        }
    }

    private func acquire() async throws {
        if available > 0 {
            available -= 1
            return
        }
        let id = nextID
        nextID += 1
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiting.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    private func release() {
        if waiting.isEmpty { available += 1 } else { waiting.removeFirst().continuation.resume() }
    }

    private func cancelWaiter(_ id: UInt64) {
        guard let index = waiting.firstIndex(where: { $0.id == id }) else { return }
        waiting.remove(at: index).continuation.resume(throwing: CancellationError())
    }

    /// Permits free now (for tests).
    var free: Int { available }
}
