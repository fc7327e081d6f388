import Foundation
@testable import Gluster
import Testing

/// Processes of one machine take turns on a gluster host: reads share it, a change has it alone.
@Suite struct HostLockTests {
    let lock = HostLock(directory: FileManager.default.temporaryDirectory.appendingPathComponent("georep-locks-\(UUID().uuidString)").path)

    @Test func readsShareAndAChangeIsAlone() async throws {
        let first = try await lock.acquire(host: "vm", exclusive: false, timeout: 1)
        let second = try await lock.acquire(host: "vm", exclusive: false, timeout: 1)
        await #expect(throws: GlusterError.timeout(host: "vm", seconds: 0.3)) {
            try await lock.acquire(host: "vm", exclusive: true, timeout: 0.3)
        }
        let other = try await lock.acquire(host: "p2", exclusive: true, timeout: 0.3)  // another host: no wait
        other.release()
        first.release()
        second.release()
        let change = try await lock.acquire(host: "vm", exclusive: true, timeout: 1)
        await #expect(throws: GlusterError.self) { try await lock.acquire(host: "vm", exclusive: false, timeout: 0.3) }
        // Given back, the read goes in at once.
        Task {
            try await Task.sleep(for: .milliseconds(200))
            change.release()
        }
        let read = try await lock.acquire(host: "vm", exclusive: false, timeout: 5)
        read.release()
    }

    @Test func onlyHostNamesMakeLockFiles() {
        #expect(HostLock.path(directory: "/run/lock/georep", host: "vm") == "/run/lock/georep/gluster-vm.lock")
        #expect(HostLock.path(directory: "/d", host: "p1.lab.example") == "/d/gluster-p1.lab.example.lock")
        #expect(HostLock.path(directory: "/d", host: "../etc/passwd") == nil)
        #expect(HostLock.path(directory: "/d", host: "") == nil)
    }
}
