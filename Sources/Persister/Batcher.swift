/// Gathers items (decoded deliveries) into batches bounded by size and time: the first item
/// opens a batch, which closes when it holds `maxSize` or `maxDelay` has passed since it opened.
actor Batcher<Item: Sendable> {
    private var items: [Item] = []
    private var waiter: CheckedContinuation<Void, Never>?
    private var finished = false
    private(set) var failure: Error?

    func append(_ item: Item) {
        items.append(item)
        wakeWaiter()
    }

    /// Several items in one hop: the persister hands over what one read of the socket brought.
    func append(contentsOf more: [Item]) {
        items.append(contentsOf: more)
        wakeWaiter()
    }

    func finish(_ error: Error?) {
        finished = true
        failure = error
        wakeWaiter()
    }

    /// The next batch; empty once the stream has finished and everything was taken.
    /// A cancelled caller gets what is there now (perhaps nothing) at once.
    ///
    /// With `quiet`, the batch also closes when a pause of that length brought nothing new: at a
    /// light load lingering only adds latency (the persister's publish→commit), while under load
    /// the items keep coming and the batch still fills. Without it the batch waits out `maxDelay`.
    func next(maxSize: Int, maxDelay: Duration, quiet: Duration? = nil) async -> [Item] {
        if items.isEmpty && !finished && !Task.isCancelled {
            await withTaskCancellationHandler {
                await withCheckedContinuation { waiter = $0 }
            } onCancel: {
                Task { await self.wakeWaiter() }
            }
        }
        if items.count < maxSize && !finished {
            // Linger for the rest of the batch; a full batch, the deadline, a quiet pause or a
            // cancel ends the wait.
            let deadline = ContinuousClock.now + maxDelay
            let step = min(.milliseconds(2), quiet ?? .milliseconds(2))
            var lastCount = items.count
            var lastGrowth = ContinuousClock.now
            while items.count < maxSize && !finished && ContinuousClock.now < deadline {
                do { try await Task.sleep(for: min(step, deadline - ContinuousClock.now)) } catch { break }
                if items.count != lastCount {
                    lastCount = items.count
                    lastGrowth = ContinuousClock.now
                } else if let quiet, ContinuousClock.now - lastGrowth >= quiet {
                    break
                }
            }
        }
        let batch = Array(items.prefix(maxSize))
        items.removeFirst(batch.count)
        return batch
    }

    private func wakeWaiter() {
        waiter?.resume()
        waiter = nil
    }
}
