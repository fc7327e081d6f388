import Foundation
import Synchronization

/// One process's traffic to each cluster's glusterd: reads (`status`, `volume info`, `config`
/// get) may overlap; a change (`create`, `start`, `config` set, …) runs alone, in arrival order.
///
/// glusterd runs one transaction at a time per cluster anyway (others get "another transaction
/// is in progress"), so this costs a worker little. It keeps a worker's own monitor from reading a
/// cluster while that worker changes it: a cluster-wide `status detail` that arrived as a
/// `create push-pem` committed stalled the lab's glusterd for six minutes (its create-post hook's
/// nested gluster calls each ran into the 120 s CLI timeout).
///
/// Across workers the routing does the same (``CommandRouting``): one worker reads and changes a
/// cluster, so this gate sees all of our traffic to it.
final class ClusterGate: Sendable {
    private struct Waiter {
        var id: UInt64
        var change: Bool
        var continuation: CheckedContinuation<Bool, Never>
    }

    private struct Traffic {
        var readers = 0
        var changing = false
        var waiting: [Waiter] = []
    }

    private let clusters = Mutex<[String: Traffic]>([:])
    private let ids = Atomic<UInt64>(0)

    /// Waits for its turn on `cluster`: shared for a read, alone for a change. False when the
    /// task was cancelled while it waited: it did not get in, and must not ``leave(_:change:)``.
    @discardableResult
    func enter(_ cluster: String, change: Bool) async -> Bool {
        let admitted = clusters.withLock { clusters -> Bool in
            var traffic = clusters[cluster, default: Traffic()]
            guard traffic.waiting.isEmpty, !traffic.changing, !change || traffic.readers == 0 else { return false }
            if change { traffic.changing = true } else { traffic.readers += 1 }
            clusters[cluster] = traffic
            return true
        }
        if admitted { return true }
        let id = ids.add(1, ordering: .relaxed).newValue
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                // Cancelled before this look: the handler found nothing to end, so end it here.
                let (cancelled, ready) = clusters.withLock { clusters -> (Bool, [CheckedContinuation<Bool, Never>]) in
                    if Task.isCancelled { return (true, []) }
                    clusters[cluster, default: Traffic()].waiting.append(Waiter(id: id, change: change, continuation: continuation))
                    // The holder may have left between the first look and now.
                    return (false, Self.admitWaiting(cluster, &clusters))
                }
                if cancelled { return continuation.resume(returning: false) }
                for waiter in ready { waiter.resume(returning: true) }
            }
        } onCancel: {
            let cancelled = clusters.withLock { clusters -> CheckedContinuation<Bool, Never>? in
                guard let index = clusters[cluster]?.waiting.firstIndex(where: { $0.id == id }) else { return nil }
                let waiter = clusters[cluster]!.waiting.remove(at: index)
                // A read behind a cancelled change may go in now.
                return waiter.continuation
            }
            cancelled?.resume(returning: false)
            let ready = clusters.withLock { Self.admitWaiting(cluster, &$0) }
            for waiter in ready { waiter.resume(returning: true) }
        }
    }

    /// Ends a read or a change on `cluster` and lets the next ones in.
    func leave(_ cluster: String, change: Bool) {
        let ready = clusters.withLock { clusters -> [CheckedContinuation<Bool, Never>] in
            if change { clusters[cluster]?.changing = false } else { clusters[cluster]?.readers -= 1 }
            return Self.admitWaiting(cluster, &clusters)
        }
        for waiter in ready { waiter.resume(returning: true) }
    }

    /// Admits waiters from the front: reads until a change, or one change once the cluster is free.
    /// Call with the lock held; resume what it returns after releasing it.
    private static func admitWaiting(_ cluster: String, _ clusters: inout [String: Traffic]) -> [CheckedContinuation<Bool, Never>] {
        guard var traffic = clusters[cluster] else { return [] }
        var ready: [CheckedContinuation<Bool, Never>] = []
        while let next = traffic.waiting.first, !traffic.changing, !next.change || traffic.readers == 0 {
            traffic.waiting.removeFirst()
            if next.change { traffic.changing = true } else { traffic.readers += 1 }
            ready.append(next.continuation)
        }
        clusters[cluster] = traffic.readers == 0 && !traffic.changing && traffic.waiting.isEmpty ? nil : traffic
        return ready
    }
}
