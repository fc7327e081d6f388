import Foundation
@testable import Gluster
import Synchronization
import Testing

/// Processes of one machine take turns on a gluster host: reads share it, a change has it alone,
/// and a change is not starved by reads that keep overlapping.
@Suite struct HostLockTests {
    let lock = HostLock(directory: FileManager.default.temporaryDirectory.appendingPathComponent("georep-locks-\(UUID().uuidString)").path)

    @Test func readsShareAndAChangeIsAlone() async throws {
        let first = try await lock.acquire(host: "vm", exclusive: false, timeout: 1)
        let second = try await lock.acquire(host: "vm", exclusive: false, timeout: 1)
        await #expect(throws: GlusterError.hostBusy(host: "vm", seconds: 0.3)) {
            try await lock.acquire(host: "vm", exclusive: true, timeout: 0.3)
        }
        let other = try await lock.acquire(host: "p2", exclusive: true, timeout: 0.3)  // another host: no wait
        other.release()
        first.release()
        second.release()
        let change = try await lock.acquire(host: "vm", exclusive: true, timeout: 1)
        await #expect(throws: GlusterError.hostBusy(host: "vm", seconds: 0.3)) {
            try await lock.acquire(host: "vm", exclusive: false, timeout: 0.3)
        }
        // Given back, the read goes in at once.
        Task {
            try await Task.sleep(for: .milliseconds(200))
            change.release()
        }
        let read = try await lock.acquire(host: "vm", exclusive: false, timeout: 5)
        read.release()
    }

    /// Three readers whose reads overlap without a gap (each 150 ms, a new one every 50 ms) kept
    /// a bare `flock` shared forever; a change now goes in once the reads already in are done,
    /// and the reads that came after it wait for it.
    @Test func aChangeIsNotStarvedByOverlappingReads() async throws {
        let lock = self.lock
        let tally = ReadTally()
        let readers = (0..<3).map { index in
            Task {
                try await Task.sleep(for: .milliseconds(50 * index))
                while !tally.stop.load(ordering: .relaxed) {
                    let held = try await lock.acquire(host: "vm", exclusive: false, timeout: 10)
                    if tally.changing.load(ordering: .sequentiallyConsistent) { tally.overlapSeen.store(true, ordering: .relaxed) }
                    try await Task.sleep(for: .milliseconds(150))
                    held.release()
                    tally.readsDone.add(1, ordering: .relaxed)
                }
            }
        }
        try await Task.sleep(for: .milliseconds(400))  // the reads overlap by now
        let asked = ContinuousClock.now
        let change = try await lock.acquire(host: "vm", exclusive: true, timeout: 3)
        let waited = ContinuousClock.now - asked
        tally.changing.store(true, ordering: .sequentiallyConsistent)
        let doneWhenIn = tally.readsDone.load(ordering: .relaxed)
        try await Task.sleep(for: .milliseconds(300))
        // No read ran alongside the change.
        let doneMeanwhile = tally.readsDone.load(ordering: .relaxed) - doneWhenIn
        #expect(doneMeanwhile == 0)
        tally.changing.store(false, ordering: .sequentiallyConsistent)
        change.release()
        try await Task.sleep(for: .milliseconds(400))
        tally.stop.store(true, ordering: .relaxed)
        for reader in readers { try await reader.value }
        let overlapped = tally.overlapSeen.load(ordering: .relaxed)
        #expect(!overlapped, "a read held the lock while the change did")
        #expect(waited < .milliseconds(1000), "the change waited \(waited) for overlapping reads")
        let doneAfter = tally.readsDone.load(ordering: .relaxed)
        #expect(doneAfter > doneWhenIn, "the reads did not go on after the change")
    }

    @Test func onlyHostNamesMakeLockFiles() {
        #expect(HostLock.path(directory: "/run/lock/georep", host: "vm") == "/run/lock/georep/gluster-vm")
        #expect(HostLock.path(directory: "/d", host: "p1.lab.example") == "/d/gluster-p1.lab.example")
        #expect(HostLock.path(directory: "/d", host: "../etc/passwd") == nil)
        #expect(HostLock.path(directory: "/d", host: "") == nil)
    }
}

/// What the readers of ``HostLockTests/aChangeIsNotStarvedByOverlappingReads()`` share.
final class ReadTally: Sendable {
    let stop = Atomic<Bool>(false)
    let readsDone = Atomic<Int>(0)
    let changing = Atomic<Bool>(false)
    let overlapSeen = Atomic<Bool>(false)
}
