import Synchronization

/// Acks batches in the order they were taken from the queue, whichever commits first.
///
/// Why: with batches written on several connections at once, a later batch can commit before an
/// earlier one, and its multiple-ack would also settle the earlier batch's deliveries while they
/// are still being written: a crash then would lose them instead of having them redelivered.
/// `Mark` is what an ack names (the persister's: a batch's last delivery).
final class AckSequencer<Mark: Sendable>: Sendable {
    private struct State {
        /// The oldest batch not acked yet.
        var next: UInt64 = 0
        /// Batches written but waiting for an older one, with their marks.
        var written: [UInt64: Mark] = [:]
    }

    private let state = Mutex(State())

    /// Records batch `number` (numbered from 0 in the order taken) as written and acks, once,
    /// through the newest batch of the unbroken run of written ones from the oldest. `ack` runs
    /// under the lock, so acks are queued in order.
    func written<E: Error>(_ number: UInt64, last: Mark, ack: (Mark) throws(E) -> Void) throws(E) {
        try state.withLock { (s) throws(E) in
            s.written[number] = last
            var upTo: Mark?
            while let mark = s.written.removeValue(forKey: s.next) {
                upTo = mark
                s.next += 1
            }
            if let upTo { try ack(upTo) }
        }
    }

    /// Batches written but not acked yet (waiting for an older one).
    var waiting: Int { state.withLock { $0.written.count } }
}
