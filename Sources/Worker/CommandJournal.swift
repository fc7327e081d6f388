import Foundation
import GeoRepCore

/// The results of recent commands, as read back from the journal stream, so that a command
/// that comes back (a redelivery after a worker died, or a sender's retry with the same id) is
/// answered from its first result instead of being applied again.
///
/// It also tells when the reader has caught up: a worker that needs to know it has seen every
/// result published before now writes a marker into the stream and waits to read it back.
actor CommandJournal {
    private var results: [UUID: CommandResult] = [:]
    /// Insertion order, to forget the oldest first.
    private var order: [UUID] = []
    private var head = 0
    private let capacity: Int
    private var seenMarkers: Set<UUID> = []
    private var waiters: [UUID: CheckedContinuation<Bool, Never>] = [:]

    init(capacity: Int = 200_000) {
        self.capacity = capacity
    }

    func record(_ result: CommandResult) {
        guard let id = result.commandId, results[id] == nil else { return }
        results[id] = result
        order.append(id)
        if order.count - head > capacity {
            results.removeValue(forKey: order[head])
            head += 1
            if head > capacity { order.removeFirst(head); head = 0 }
        }
    }

    func result(of id: UUID) -> CommandResult? { results[id] }

    var count: Int { results.count }

    func markerSeen(_ nonce: UUID) {
        if let waiter = waiters.removeValue(forKey: nonce) {
            waiter.resume(returning: true)
        } else {
            seenMarkers.insert(nonce)
        }
    }

    /// Waits until the marker `nonce` has been read back, or `timeout` passes (false).
    func waitForMarker(_ nonce: UUID, timeout: Duration) async -> Bool {
        if seenMarkers.remove(nonce) != nil { return true }
        let timer = Task { [weak self] in
            // Cancelled once the marker came: then `expire` finds no waiter left.
            try? await Task.sleep(for: timeout)
            await self?.expire(nonce)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { waiters[nonce] = $0 }
    }

    private func expire(_ nonce: UUID) {
        waiters.removeValue(forKey: nonce)?.resume(returning: false)
    }
}
