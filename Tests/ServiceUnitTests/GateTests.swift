import Foundation
@testable import Worker
import Testing

/// The worker's concurrency limit: never more than `limit` at once, permits always given back,
/// and a cancelled waiter leaves at once without taking one.
@Suite struct ConcurrencyGateTests {
    actor Count {
        var now = 0
        var most = 0
        func enter() { now += 1; most = max(most, now) }
        func leave() { now -= 1 }
    }

    @Test func neverMoreThanTheLimitAndPermitsComeBack() async throws {
        let gate = ConcurrencyGate(limit: 3)
        let count = Count()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<20 {
                group.addTask {
                    try await gate.withPermit {
                        await count.enter()
                        try await Task.sleep(for: .milliseconds(5))
                        await count.leave()
                        if i % 5 == 0 { throw CancellationError() }  // a failing body gives its permit back too
                    }
                }
            }
            while let result = await group.nextResult() { _ = result }
        }
        #expect(await count.most == 3)
        #expect(await gate.free == 3)
    }

    @Test func aCancelledWaiterLeavesWithoutAPermit() async throws {
        let gate = ConcurrencyGate(limit: 1)
        // The holder keeps its permit until cancelled: however slow the machine, the waiter
        // cannot get it first.
        let holder = Task { try await gate.withPermit { try await Task.sleep(for: .seconds(3600)) } }
        try await Task.sleep(for: .milliseconds(50))
        let waiter = Task { try await gate.withPermit { "ran" } }
        try await Task.sleep(for: .milliseconds(50))
        let started = ContinuousClock.now
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(ContinuousClock.now - started < .seconds(4), "the cancelled waiter waited for the holder")
        holder.cancel()
        _ = await holder.result
        #expect(await gate.free == 1)
        #expect(try await gate.withPermit { "after" } == "after")
    }
}
