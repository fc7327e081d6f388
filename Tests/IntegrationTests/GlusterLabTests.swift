import Foundation
import GeoRepCore
import Gluster
import Logging
import Testing

/// Every gluster operation against the real lab, once over ssh to the lab host and once
/// locally, on the session `mvol -> <host>::svol3` that only these tests use.
extension Integration {
@Suite(.serialized) struct GlusterLabTests {
    static func executor(_ transports: [Inventory.Host.Transport], extraFirstHost: String? = nil, timeout: Double = 120,
                         program: String = "gluster") throws -> (GlusterExecutor, TestEnvironment) {
        let env = try TestEnvironment.load()
        let lab = try Inventory.load(path: env.inventoryPath)
        var hosts = transports.map { Inventory.Host(name: env.labHost, transport: $0) }
        if let extra = extraFirstHost { hosts.insert(Inventory.Host(name: extra, transport: .ssh), at: 0) }
        var ssh = lab.ssh ?? SSHSettings()
        ssh.controlDirectory = FileManager.default.temporaryDirectory.path
        ssh.connectTimeout = 5
        let inventory = Inventory(clusters: [Inventory.Cluster(id: "lab", hosts: hosts)], ssh: ssh)
        return (GlusterExecutor(inventory: inventory, commandTimeout: timeout, glusterProgram: program, logger: TestEnvironment.logger), env)
    }

    @Test(.timeLimit(.minutes(6)), arguments: [Inventory.Host.Transport.ssh, .local])
    func everyOperation(transport: Inventory.Host.Transport) async throws {
        let (gluster, env) = try Self.executor([transport])
        let ref = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: env.labHost, secondaryVolume: "svol3")
        func run(_ operation: GlusterOperation) async throws -> String { try await gluster.perform(operation, cluster: "lab") }
        func expectError(_ code: String, _ operation: GlusterOperation) async throws {
            do {
                let message = try await run(operation)
                Issue.record("expected \(code), gluster answered success: \(message)")
            } catch let error as GlusterError {
                #expect(error.code == code, "\(error)")
            }
        }

        // Reads.
        let volumes = try await gluster.volumes(cluster: "lab")
        let mvol = try #require(volumes.first { $0.name == "mvol" })
        #expect(mvol.bricks.count == 2)
        #expect(UUID(uuidString: mvol.id) != nil)
        let peers = try await gluster.pool(cluster: "lab")
        #expect(peers.count == 1 && peers[0].connected)

        // A clean slate.
        _ = try? await run(.lifecycle(.stop, ref, force: true))
        _ = try? await run(.delete(ref, resetSyncTime: true))

        // create, twice (force makes it idempotent), then read it back not started.
        _ = try await run(.create(ref, CommandOptions(force: true)))
        _ = try await run(.create(ref, CommandOptions(force: true)))
        let created = try #require(try await gluster.statusDetail(cluster: "lab", session: ref, volumeIDs: [mvol.name: mvol.id]).first)
        #expect(created.status == .notStarted)
        #expect(created.secondaryVolume == "svol3")
        #expect(created.sessionKey?.hasSuffix(try #require(volumes.first { $0.name == "svol3" }).id) == true)
        #expect(created.bricks.allSatisfy { $0.brickId != nil })

        // config get / set / reset / checkpoint.
        let defaults = try await gluster.config(ref)
        #expect(defaults["sync_jobs"] != nil)
        _ = try await run(.configSet(ref, key: "sync-jobs", value: "5"))
        #expect(try await gluster.configValue(ref, key: "sync-jobs") == "5")
        _ = try await run(.configReset(ref, key: "sync-jobs"))
        #expect(try await gluster.configValue(ref, key: "sync_jobs") == defaults["sync_jobs"])

        // start, start again, and the plain status.
        _ = try await run(.lifecycle(.start, ref, force: false))
        try await expectError("already_started", .lifecycle(.start, ref, force: false))
        let plain = try await gluster.status(cluster: "lab", session: ref)
        #expect(plain.count == 1)
        #expect(plain.first.map { [.notStarted, .initializing, .active, .passive].contains($0.status) } == true, "\(plain)")
        _ = try await run(.checkpoint(ref, at: nil))
        #expect(try await gluster.configValue(ref, key: "checkpoint") != "0")
        try await expectError("still_active", .delete(ref, resetSyncTime: false))

        // pause, pause again, resume.
        _ = try await run(.lifecycle(.pause, ref, force: false))
        try await expectError("already_paused", .lifecycle(.pause, ref, force: false))
        let paused = try #require(try await gluster.statusDetail(cluster: "lab", session: ref).first)
        #expect(paused.status == .paused)
        _ = try await run(.lifecycle(.resume, ref, force: false))

        // stop (force: the workers may still be initializing), stop again says "not set up".
        _ = try await run(.lifecycle(.stop, ref, force: true))
        let again = try await run(.lifecycle(.stop, ref, force: false))
        #expect(again.contains("not set up"))
        #expect(try await gluster.statusDetail(cluster: "lab", session: ref).first?.status == .stopped)
        let pauseStopped = try await run(.lifecycle(.pause, ref, force: false))
        #expect(GlusterError.notRunning(after: "pause", message: pauseStopped) != nil)

        // delete, delete again, and what is left.
        _ = try await run(.delete(ref, resetSyncTime: true))
        try await expectError("session_not_found", .delete(ref, resetSyncTime: false))
        try await expectError("session_not_found", .lifecycle(.start, ref, force: false))
        do {
            _ = try await gluster.statusDetail(cluster: "lab", session: ref)
            Issue.record("a deleted session still has a status")
        } catch {
            #expect(error.code == "session_not_found")
        }
        let noVolume = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: env.labHost, secondaryVolume: "nosuchvol")
        try await expectError("secondary_unavailable", .create(noVolume, CommandOptions()))
    }

    /// A touch of a volume glusterd does not serve (as a worker on the stand-in once asked for):
    /// a typed failure, and no FUSE client left behind. Before the fix, a touch that timed out
    /// skipped the unmount and left a client asking glusterd for the volfile for ever.
    @Test(.timeLimit(.minutes(3)))
    func aTouchOfAVolumeGlusterdDoesNotServeLeavesNoClient() async throws {
        let (gluster, _) = try Self.executor([.local], timeout: 20)
        let volume = "novol\(UUID().uuidString.prefix(6).lowercased())"
        do {
            try await gluster.touchVolumeRoot(cluster: "lab", volume: volume)
            Issue.record("a touch of \(volume), which glusterd does not have, succeeded")
        } catch {
            #expect(error.code == "touch_failed" || error.code == "timeout", "\(error)")
        }
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        #expect(!mounts.contains(volume), "a FUSE mount of \(volume) was left: \(mounts.split(separator: "\n").filter { $0.contains(volume) })")
        let clients = runCommandCapturing(["pgrep", "-af", "volfile-id \(volume)"]).output
        #expect(clients.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "glusterfs clients of \(volume) left: \(clients)")
    }

    @Test func failsOverWhenTheFirstHostIsUnreachable() async throws {
        // A name that cannot resolve: ssh fails at once (exit 255), nothing leaves this machine.
        let (gluster, _) = try Self.executor([.ssh], extraFirstHost: "unreachable.invalid")
        let volumes = try await gluster.volumes(cluster: "lab")
        #expect(volumes.contains { $0.name == "mvol" })

        let (alone, _) = try Self.executor([], extraFirstHost: "unreachable.invalid")
        do {
            _ = try await alone.volumes(cluster: "lab")
            Issue.record("an unreachable host answered")
        } catch {
            #expect(error.code == "host_unreachable")
            #expect(error.retryable)
        }
    }

    @Test func unknownClusterAndTimeoutAreTyped() async throws {
        let (gluster, _) = try Self.executor([.local])
        await #expect(throws: GlusterError.unknownCluster("elsewhere")) { _ = try await gluster.volumes(cluster: "elsewhere") }

        let slow = FileManager.default.temporaryDirectory.appendingPathComponent("georep-slow-gluster-\(UUID().uuidString)")
        try "#!/bin/sh\nsleep 30\n".write(to: slow, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: slow.path)
        defer { try? FileManager.default.removeItem(at: slow) }
        let (timing, _) = try Self.executor([.local], timeout: 1, program: slow.path)
        let started = Date()
        // A call no host answered marks the cluster wedged, saying it timed out (docs/reliability.md).
        do {
            _ = try await timing.volumes(cluster: "lab")
            Issue.record("a gluster that never answers answered")
        } catch {
            #expect(error.code == "management_plane_wedged" && error.retryable, "\(error)")
            #expect(error.description.contains("did not answer within 1 s"), "\(error)")
        }
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test func hostileNamesNeverStartAProcess() async throws {
        // A canary gluster: if any process were started with these names, the file would appear.
        let canary = FileManager.default.temporaryDirectory.appendingPathComponent("georep-canary-\(UUID().uuidString)")
        let program = FileManager.default.temporaryDirectory.appendingPathComponent("georep-canary-gluster-\(UUID().uuidString)")
        try "#!/bin/sh\ntouch \(canary.path)\n".write(to: program, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: program.path)
        defer { try? FileManager.default.removeItem(at: program) }
        let (gluster, env) = try Self.executor([.local, .ssh], program: program.path)
        for name in ["vol;touch /tmp/x", "--help", "-x", "a\nb", "$(id)", "`id`", String(repeating: "v", count: 300)] {
            let ref = SessionRef(cluster: "lab", primaryVolume: name, secondaryHost: env.labHost, secondaryVolume: "svol3")
            await #expect(throws: GlusterError.self) { _ = try await gluster.statusDetail(cluster: "lab", session: ref) }
            await #expect(throws: GlusterError.self) { _ = try await gluster.config(ref) }
            await #expect(throws: GlusterError.self) { _ = try await gluster.volumes(cluster: "lab", volume: name) }
        }
        #expect(!FileManager.default.fileExists(atPath: canary.path), "a process was started with a hostile name")
        // The canary works: a valid call does start it.
        _ = try? await gluster.volumes(cluster: "lab")
        #expect(FileManager.default.fileExists(atPath: canary.path))
        try? FileManager.default.removeItem(at: canary)
    }
}
}

extension TestEnvironment {
    static var labHostOrEmpty: String { ProcessInfo.processInfo.environment["GEOREP_LAB_HOST"] ?? "" }
}
