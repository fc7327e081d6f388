@testable import Persister
import Testing

/// Batches written on several connections commit in any order; their acks go in the order the
/// batches were taken, each covering every batch before it.
@Suite struct AckSequencerTests {
    @Test func aBatchWrittenEarlyWaitsForTheOlderOnes() {
        let acks = AckSequencer<Int>()
        var sent: [Int] = []
        acks.written(1, last: 199) { sent.append($0) }
        acks.written(2, last: 299) { sent.append($0) }
        #expect(sent.isEmpty, "batch 0 is still being written")
        #expect(acks.waiting == 2)
        acks.written(0, last: 99) { sent.append($0) }
        #expect(sent == [299], "one ack covers batches 0 to 2")
        acks.written(4, last: 499) { sent.append($0) }
        acks.written(3, last: 399) { sent.append($0) }
        #expect(sent == [299, 499])
        #expect(acks.waiting == 0)
    }

    @Test func inOrderBatchesAreAckedOneByOne() {
        let acks = AckSequencer<Int>()
        var sent: [Int] = []
        for n in 0..<5 { acks.written(UInt64(n), last: n * 10) { sent.append($0) } }
        #expect(sent == [0, 10, 20, 30, 40])
    }
}
