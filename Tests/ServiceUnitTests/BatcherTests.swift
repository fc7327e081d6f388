import Foundation
@testable import Persister
import Testing

/// The persister's batches: bounded by size and by time, everything taken once, and a
/// cancelled reader stops waiting.
@Suite struct BatcherTests {
    @Test func aFullBatchTakesTheItemsThatBelongWithItsLast() async {
        let batcher = Batcher<Int>()
        // Groups of tens: 10-12, 20-23, 30.
        for i in [10, 11, 12, 20, 21, 22, 23, 30] { await batcher.append(i) }
        let together: @Sendable (Int, Int) -> Bool = { $0 / 10 == $1 / 10 }
        #expect(await batcher.next(maxSize: 2, maxDelay: .seconds(5), together: together) == [10, 11, 12], "one more, up to the group's end")
        #expect(await batcher.next(maxSize: 1, maxDelay: .seconds(5), together: together) == [20, 21], "at most a batch and an eighth")
        #expect(await batcher.next(maxSize: 8, maxDelay: .milliseconds(20), together: together) == [22, 23, 30], "a batch not full is not extended")
    }

    @Test func fullBatchesAtOnceAndAPartialOneAfterTheDelay() async {
        let batcher = Batcher<Int>()
        for i in 0..<7 { await batcher.append(i) }
        #expect(await batcher.next(maxSize: 3, maxDelay: .seconds(5)) == [0, 1, 2])
        #expect(await batcher.next(maxSize: 3, maxDelay: .seconds(5)) == [3, 4, 5])
        let started = ContinuousClock.now
        #expect(await batcher.next(maxSize: 3, maxDelay: .milliseconds(50)) == [6])
        let waited = ContinuousClock.now - started
        // Bounds loose enough for a loaded 2-core machine; the point is that it did not wait 5 s.
        #expect(waited >= .milliseconds(40) && waited < .seconds(4), "\(waited)")
    }

    @Test func anArrayGoesInAtOnceAndComesOutInBatches() async {
        let batcher = Batcher<Int>()
        await batcher.append(contentsOf: Array(0..<5))
        await batcher.append(contentsOf: [])
        #expect(await batcher.next(maxSize: 3, maxDelay: .seconds(5)) == [0, 1, 2])
        #expect(await batcher.next(maxSize: 3, maxDelay: .milliseconds(10)) == [3, 4])
    }

    @Test func aQuietStreamClosesThePartialBatchWithoutWaitingOutTheDelay() async {
        let batcher = Batcher<Int>()
        await batcher.append(contentsOf: [1, 2])
        let started = ContinuousClock.now
        #expect(await batcher.next(maxSize: 10, maxDelay: .seconds(5), quiet: .milliseconds(1)) == [1, 2])
        // The point is that it did not wait out its 5 s; bounds loose enough for a loaded machine.
        #expect(ContinuousClock.now - started < .seconds(4))
    }

    @Test func aFinishedStreamHandsOverWhatIsLeftThenNothing() async {
        let batcher = Batcher<Int>()
        await batcher.append(1)
        await batcher.finish(nil)
        #expect(await batcher.next(maxSize: 10, maxDelay: .seconds(5)) == [1])
        #expect(await batcher.next(maxSize: 10, maxDelay: .seconds(5)) == [])
    }

    @Test func aCancelledReaderStopsWaiting() async {
        let batcher = Batcher<Int>()
        let reader = Task { await batcher.next(maxSize: 10, maxDelay: .seconds(5)) }
        try? await Task.sleep(for: .milliseconds(50))
        let started = ContinuousClock.now
        reader.cancel()
        #expect(await reader.value == [])
        #expect(ContinuousClock.now - started < .seconds(4), "the cancelled reader waited out its 5 s")
        await batcher.append(9)
        #expect(await batcher.next(maxSize: 10, maxDelay: .milliseconds(10)) == [9], "an item after the cancel is still handed over")
    }
}
