import Foundation
import GeoRepCore
@testable import Gluster
import Testing

/// Recognising a wedged glusterd from a host's process table, and the breaker that stops calls
/// from piling onto it.
@Suite struct WedgeTests {
    /// `ps -eo pid=,etimes=,args=` as it reads on a lab host during a wedged `create push-pem`
    /// (the command lines are gverify.sh's own, GlusterFS 10.3), beside processes that must not count.
    static let psOutput = """
        1 90000 /sbin/init
        812  5400 /usr/sbin/glusterd -p /var/run/glusterd.pid --log-level INFO
        4242   312 /bin/bash /usr/lib/x86_64-linux-gnu/glusterfs/gverify.sh mvol root vm svol3 22 /var/log/glusterfs/geo-replication/gverify.log
        4250   311 glusterfs -s localhost --xlator-option=*dht.lookup-unhashed=off --volfile-id mvol -l /var/log/glusterfs/geo-replication/gverify-primarymnt.log /tmp/gverify.sh.Ab12Cd
        4300    12 glusterfs -s localhost --xlator-option=*dht.lookup-unhashed=off --volfile-id mvol -l /var/log/glusterfs/geo-replication/gverify-primarymnt.log /tmp/gverify.sh.Zz99Yy
        5000 86000 /usr/sbin/glusterfs --process-name fuse --volfile-server=vm --volfile-id=/mvol /mnt/mvol
        5100    40 /bin/bash /var/lib/glusterd/hooks/1/gsync-create/post/S56glusterd-geo-rep-create-post.sh --volname=mvol is_push_pem=1
        5200   100 grep gverify.sh
        """

    @Test func helpersThatRanLongAreFound() {
        let stuck = StuckProcessScan.parse(Self.psOutput, minimumSeconds: 20)
        #expect(stuck.map(\.pid) == [4242, 4250, 5100])
        #expect(stuck.map(\.kind) == [.gverify, .mountClient, .hook])
        #expect(stuck[0].seconds == 312)
        // An operator's long-lived FUSE mount, glusterd itself, a young gverify mount and a grep are not suspects.
        #expect(!stuck.contains { [1, 812, 4300, 5000, 5200].contains($0.pid) })
        let cause = StuckProcessScan.cause(stuck, host: "vm", seconds: 20)
        #expect(cause.contains("gverify.sh (pid 4242, 312 s)"))
        #expect(cause.contains("a FUSE mount client waiting for its volfile (pid 4250, 311 s)"))
        #expect(cause.contains("ending the waiting mount client"))
    }

    @Test func nothingSeenSaysSo() {
        #expect(StuckProcessScan.parse("  1 9 /sbin/init\n garbage\n\n", minimumSeconds: 1).isEmpty)
        #expect(StuckProcessScan.cause([], host: "p1", seconds: 120).contains("did not answer within 120 s"))
    }

    @Test func aWedgeIsAnnouncedOnceAndItsEndOnce() {
        let health = ClusterHealth()
        #expect(health.wedge("lab") == nil)
        health.markAnswered("lab", host: "vm")  // answering while not wedged: nothing to say
        #expect(health.takeChanges().isEmpty)

        health.markWedged("lab", host: "vm", cause: "waiting for gverify.sh", stuck: [])
        health.markWedged("lab", host: "vm", cause: "again", stuck: [])
        var changes = health.takeChanges()
        #expect(changes.count == 1)
        #expect(changes.first?.available == false && changes.first?.cause == "waiting for gverify.sh")
        #expect(health.wedged == ["lab"])
        #expect(health.wedge("other") == nil, "other clusters are not affected")

        // One probe at a time, and not before the interval.
        #expect(!health.claimProbe("lab", every: .seconds(60)))
        #expect(health.claimProbe("lab", every: .zero))
        #expect(!health.claimProbe("lab", every: .zero), "a probe is already out")
        health.probeFailed("lab")
        #expect(health.claimProbe("lab", every: .zero))

        health.markAnswered("lab", host: "vm")
        changes = health.takeChanges()
        #expect(changes.count == 1 && changes[0].available && changes[0].recoveredAt != nil)
        #expect(health.wedge("lab") == nil)

        // Changes that could not be published go back ahead of newer ones.
        health.markWedged("lab", host: "vm", cause: "1", stuck: [])
        let first = health.takeChanges()
        health.markAnswered("lab", host: "vm")
        health.giveBack(first)
        #expect(health.takeChanges().map(\.available) == [false, true])
    }

    /// A folder of its own holding `gluster`, a program that never answers (but to `ready`).
    static func hangingGluster() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("georep-wedge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let hanging = dir.appendingPathComponent("gluster")
        try "#!/bin/sh\n[ \"$1\" = ready ] && exit 0\nexec sleep 30\n".write(to: hanging, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hanging.path)
        // A process another test spawned while the file was open for writing holds it until
        // that child closes its descriptors, and an exec meanwhile fails with "Text file busy"
        // (seen in CI): the first call then failed to launch instead of hanging.
        let deadline = Date().addingTimeInterval(10)
        while true {
            let probe = Process()
            probe.executableURL = hanging
            probe.arguments = ["ready"]
            do { try probe.run() } catch where Date() < deadline {
                Thread.sleep(forTimeInterval: 0.05)
                continue
            }
            probe.waitUntilExit()
            try #require(probe.terminationStatus == 0, "the hanging gluster answered `ready` with \(probe.terminationStatus)")
            return dir
        }
    }

    /// An executor of cluster `lab` (host `vm`) running the hanging gluster of `dir`, taking its
    /// turns in `dir` too: not the real lab's, which a bench or a service may hold.
    static func executor(_ dir: URL, timeout: Double) -> GlusterExecutor {
        let inventory = Inventory(clusters: [Inventory.Cluster(id: "lab", hosts: [Inventory.Host(name: "vm", transport: .local)])])
        var gluster = GlusterExecutor(inventory: inventory, commandTimeout: timeout,
                                      glusterProgram: dir.appendingPathComponent("gluster").path, logger: .init(label: "test"))
        gluster.probeInterval = 60
        gluster.lockDirectory = dir.path
        return gluster
    }

    /// A gluster that never answers: the first read is ended by the watchdog or the timeout, the
    /// cluster is marked wedged, and the next calls fail at once instead of waiting again.
    @Test func callsToAWedgedClusterFailAtOnce() async throws {
        let dir = try Self.hangingGluster()
        defer { try? FileManager.default.removeItem(at: dir) }
        let gluster = Self.executor(dir, timeout: 2)

        let started = ContinuousClock.now
        await #expect(throws: GlusterError.self) { try await gluster.volumes(cluster: "lab") }
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(gluster.health.wedged == ["lab"])
        let announced = gluster.health.takeChanges()
        #expect(announced.count == 1 && announced[0].available == false && announced[0].host == "vm")

        let again = ContinuousClock.now
        do {
            _ = try await gluster.statusDetail(cluster: "lab")
            Issue.record("a wedged cluster answered")
        } catch {
            #expect(error.code == "management_plane_wedged")
            #expect(error.description.contains("other clusters are not affected"))
        }
        #expect(ContinuousClock.now - again < .seconds(1), "the second call waited instead of failing at once")
    }

    /// A change whose outcome is unknown keeps the host's turn until glusterd answers again; an
    /// executor that goes before that gives it back, as its process's exit would. The turn once
    /// stayed with a test process for the rest of its run (``HostLock/Held``).
    @Test func aTurnKeptForAnUnknownOutcomeGoesWithItsExecutor() async throws {
        let dir = try Self.hangingGluster()
        defer { try? FileManager.default.removeItem(at: dir) }
        let lock = HostLock(directory: dir.path)
        do {
            let gluster = Self.executor(dir, timeout: 1)
            let ref = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: "vm", secondaryVolume: "svol")
            await #expect(throws: GlusterError.self) { _ = try await gluster.perform(.lifecycle(.start, ref, force: false), cluster: "lab") }
            #expect(gluster.health.parkedLock("lab"), "the change's turn was not kept")
            await #expect(throws: GlusterError.hostBusy(host: "vm", seconds: 0.3)) {
                try await lock.acquire(host: "vm", exclusive: false, timeout: 0.3)
            }
        }
        let read = try await lock.acquire(host: "vm", exclusive: false, timeout: 2)
        read.release()
        read.release()  // a second release closes nothing
    }
}
