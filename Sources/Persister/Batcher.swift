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
    ///
    /// With `together`, a full batch takes the items right after it that `together` pairs with its
    /// last one (up to `maxSize / 8` more): the persister keeps a session's events of one
    /// observation in one batch, so that two batches written at once do not both write, and wait
    /// for each other on, the session's row.
    func next(maxSize: Int, maxDelay: Duration, quiet: Duration? = nil,
              together: (@Sendable (Item, Item) -> Bool)? = nil) async -> [Item] {
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
        var count = min(maxSize, items.count)
        if let together, count == maxSize {
            let limit = min(items.count, maxSize + max(1, maxSize / 8))
            while count < limit && together(items[count - 1], items[count]) { count += 1 }
        }
        let batch = Array(items.prefix(count))
        items.removeFirst(count)
        return batch
    }

    private func wakeWaiter() {
        waiter?.resume()
        waiter = nil
    }
}
