import Foundation
import GeoRepCore
import Gluster
@testable import Worker
import Testing

/// Observations become events: a change from → to for the session and each brick, a snapshot
/// when something changed or one is due, nothing when nothing changed; newer state learnt from
/// other workers wins.
@Suite struct SessionTrackerTests {
    /// A recorded `status detail` of the lab (GlusterFS 10.3, two Active bricks).
    static func observed(_ file: String = "status-detail-active.xml") throws -> ObservedSession {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/gluster-10.3/\(file)")
        let text = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("rc=") }.joined(separator: "\n")
        return try #require(try GlusterParser.statusSessions(text).first)
    }

    @Test func aNewSessionThenNoChangeThenADueSnapshot() async throws {
        let tracker = SessionTracker()
        let observed = try Self.observed()
        let ref = observed.ref(cluster: "lab")
        let first = await tracker.observe(ref, observed: observed, primaryVolumeId: "v", options: ["sync_jobs": "3"], cause: .monitor)
        #expect(first.count == 1 + observed.bricks.count + 1, "\(first.map(\.type))")
        guard case .sessionStatusChanged(let change) = first[0] else { Issue.record("first event: \(first[0].type)"); return }
        #expect(change.from == nil && change.to == .active)
        #expect(first.filter { $0.type == "georep.brick.status_changed" }.count == observed.bricks.count)
        #expect(first.last?.type == "georep.session.snapshot")

        #expect(await tracker.observe(ref, observed: observed, primaryVolumeId: "v", options: nil, cause: .monitor).isEmpty)
        let due = await tracker.observe(ref, observed: observed, primaryVolumeId: "v", options: nil, cause: .monitor, forceSnapshot: true)
        #expect(due.map(\.type) == ["georep.session.snapshot"])
        #expect(await tracker.knows(ref.sessionID))
        #expect(await tracker.status(of: ref.sessionID) == .active)
    }

    @Test func unreachableOnceAndGoneOnce() async throws {
        let tracker = SessionTracker()
        let observed = try Self.observed()
        let ref = observed.ref(cluster: "lab")
        _ = await tracker.observe(ref, observed: observed, primaryVolumeId: nil, options: nil, cause: .monitor)
        let unreachable = await tracker.markUnreachable(cluster: "lab")
        #expect(unreachable.count == 1)
        if case .sessionStatusChanged(let e) = unreachable.first { #expect(e.from == .active && e.to == .unknown) }
        #expect(await tracker.markUnreachable(cluster: "lab").isEmpty, "UNKNOWN is announced once")
        #expect(await tracker.markUnreachable(cluster: "other").isEmpty)
        let gone = await tracker.observe(ref, observed: nil, primaryVolumeId: nil, options: nil, cause: .monitor)
        #expect(gone.map(\.type) == ["georep.session.deleted"])
        #expect(await tracker.observe(ref, observed: nil, primaryVolumeId: nil, options: nil, cause: .monitor).isEmpty)
    }

    /// A worker that takes a shard over continues from what the others published.
    @Test func newerPublishedStateIsLearnt() async throws {
        let tracker = SessionTracker()
        let observed = try Self.observed()
        let ref = observed.ref(cluster: "lab")
        var clock = ObservationClock()
        let later = clock.next(now: Date().addingTimeInterval(60), cause: .monitor)
        await tracker.learn(.sessionStatusChanged(SessionStatusChanged(session: ref, from: .initializing, to: .active, observation: later)))
        #expect(await tracker.status(of: ref.sessionID) == .active)
        // Observed ACTIVE as learnt: no status change is announced again.
        let events = await tracker.observe(ref, observed: observed, primaryVolumeId: nil, options: nil, cause: .monitor)
        #expect(!events.contains { $0.type == "georep.session.status_changed" }, "\(events.map(\.type))")
        #expect(await tracker.statusCounts(clusters: ["lab"]) == [.active: 1])
    }

    /// A worker whose clock is 30 s behind, after another worker's snapshot: its next observation
    /// is stamped above the snapshot, or PostgreSQL would keep the older state (issue 18).
    @Test func aSlowClockStampsAboveASnapshotItLearnt() async throws {
        let tracker = SessionTracker()
        let observed = try Self.observed()
        let ref = observed.ref(cluster: "lab")
        var fast = ObservationClock()
        let snapshotStamp = fast.next(now: Date().addingTimeInterval(30), cause: .monitor)
        await tracker.learn(.sessionSnapshot(SessionSnapshot(
            session: ref, sessionKey: nil, primaryVolumeId: "v", secondaryVolumeId: nil, status: .active, bricks: [], options: nil,
            observation: snapshotStamp)))
        #expect(await tracker.status(of: ref.sessionID) == .active)
        var paused = observed
        paused.bricks = paused.bricks.map { var b = $0; b.status = .paused; return b }
        let events = await tracker.observe(ref, observed: paused, primaryVolumeId: "v", options: nil, cause: .monitor)
        let change = events.compactMap { if case .sessionStatusChanged(let e) = $0 { e } else { nil } }.first
        #expect(change?.to == .paused, "\(events.map(\.type))")
        #expect((change?.observation.seq ?? 0) > snapshotStamp.seq, "stamped below the snapshot it learnt")
    }

    /// A completed checkpoint is announced by the monitor only, once; one another worker
    /// announced (read back from the journal) is not announced again, nor filtered back in.
    @Test func aCompletedCheckpointIsAnnouncedOnceAndNotAfterAnotherWorkerDid() async throws {
        let pending = try Self.observed("status-detail-checkpoint.xml")
        let done = try Self.observed("status-detail-checkpoint-done.xml")
        let ref = done.ref(cluster: "lab")
        let tracker = SessionTracker()
        _ = await tracker.observe(ref, observed: pending, primaryVolumeId: "v", options: nil, cause: .monitor)
        // A command's read-back says nothing of checkpoints: the monitor's read does, after a journal sync.
        let afterCommand = await tracker.observe(ref, observed: done, primaryVolumeId: "v", options: nil, cause: .command(UUID()))
        #expect(afterCommand.filter(\.isCheckpointAnnouncement).isEmpty)
        let monitored = await tracker.observe(ref, observed: done, primaryVolumeId: "v", options: nil, cause: .monitor, forceSnapshot: true)
        let completed = monitored.filter(\.isCheckpointAnnouncement)
        #expect(completed.map(\.type) == ["georep.session.checkpoint.completed"])
        #expect(await tracker.checkpoint(of: ref.sessionID).progress?.state == .completed)
        // Not yet published: the next read offers it again; once learnt (published), never again.
        let again = await tracker.observe(ref, observed: done, primaryVolumeId: "v", options: nil, cause: .monitor, forceSnapshot: true)
        #expect(again.filter(\.isCheckpointAnnouncement).count == 1)
        for event in completed { await tracker.learn(event) }
        #expect(await tracker.unannounced(completed).isEmpty)
        let learnt = await tracker.observe(ref, observed: done, primaryVolumeId: "v", options: nil, cause: .monitor, forceSnapshot: true)
        #expect(learnt.filter(\.isCheckpointAnnouncement).isEmpty)

        // Another worker's tracker that learnt it from the journal stays silent.
        let other = SessionTracker()
        for event in completed { await other.learn(event) }
        let elsewhere = await other.observe(ref, observed: done, primaryVolumeId: "v", options: nil, cause: .monitor)
        #expect(elsewhere.filter(\.isCheckpointAnnouncement).isEmpty)
    }
}
