import Foundation
import GeoRepCore
@testable import Gluster
import Testing

/// ``CheckpointProgress`` and ``CheckpointWatch`` on the recorded gluster 10.3 answers: a
/// checkpoint pending on both Active bricks, then completed on both.
@Suite struct CheckpointProgressTests {
    func bricks(_ file: String) throws -> [BrickDetail] {
        let out = try RecordedOutput.load(file)
        return try #require(try GlusterParser.statusSessions(out.text, exitCode: out.exitCode).first).bricks
    }

    @Test func recordedCheckpointPendingThenCompleted() throws {
        let pending = CheckpointProgress.of(try bricks("status-detail-checkpoint.xml"))
        #expect(pending.state == .pending)
        #expect(pending.checkpointTime == "2026-11-23T04:01:15.000Z")
        #expect(pending.activeBricks == 2 && pending.completedBricks == 0)
        #expect(pending.completionTime == nil)
        #expect(pending.oldestLastSynced == "2026-11-23T03:58:02.000Z")

        let done = CheckpointProgress.of(try bricks("status-detail-checkpoint-done.xml"))
        #expect(done.state == .completed)
        #expect(done.checkpointTime == "2026-11-23T04:01:15.000Z")
        #expect(done.completionTime == "2026-11-23T04:02:05.000Z")
        #expect(done.completedBricks == 2)
        #expect(done.durationSeconds == 50)

        // No checkpoint set: gluster says N/A on every brick.
        #expect(CheckpointProgress.of(try bricks("status-detail-active.xml")).state == .none)
    }

    @Test func onlyActiveBricksCountAndTheLatestCompletionIsTheSessions() throws {
        var recorded = try bricks("status-detail-checkpoint-done.xml")
        // A Passive brick reports nothing of the checkpoint (gsyncd shows N/A there): it does not hold it back.
        recorded[1].status = .passive
        recorded[1].checkpointCompleted = nil
        recorded[1].checkpointTime = nil
        #expect(CheckpointProgress.of(recorded).state == .completed)
        #expect(CheckpointProgress.of(recorded).activeBricks == 1)

        var two = try bricks("status-detail-checkpoint-done.xml")
        two[1].checkpointCompletionTime = Timestamp.parseUTCWallClock("2026-11-23 04:03:10")
        #expect(CheckpointProgress.of(two).completionTime == "2026-11-23T04:03:10.000Z")
        #expect(CheckpointProgress.of(two).durationSeconds == 115)

        // One Active brick still on an older checkpoint (a new one was just set): not complete.
        var mixed = try bricks("status-detail-checkpoint-done.xml")
        mixed[0].checkpointTime = Timestamp.parseUTCWallClock("2026-11-23 04:05:00")
        mixed[0].checkpointCompleted = false
        let progress = CheckpointProgress.of(mixed)
        #expect(progress.state == .pending && progress.checkpointTime == "2026-11-23T04:05:00.000Z" && progress.completedBricks == 0)
    }

    @Test func theWatchAnnouncesACompletionOnceAndAStallOnce() throws {
        let session = UUID()
        let pending = try bricks("status-detail-checkpoint.xml")
        let done = try bricks("status-detail-checkpoint-done.xml")
        var watch = CheckpointWatch(stallAfter: 60)
        let t0 = Date()
        #expect(watch.observe(session: session, status: .active, bricks: pending, now: t0).isEmpty)
        // Nothing moved for the stall time: stalled, once.
        let stalled = watch.observe(session: session, status: .active, bricks: pending, now: t0.addingTimeInterval(61))
        guard case .stalled(.noProgress, let progress, let seconds)? = stalled.first else {
            Issue.record("expected a stall, got \(stalled)")
            return
        }
        #expect(progress.completedBricks == 0 && seconds == 61)
        watch.learnStalled(session: session, checkpointTime: progress.checkpointTime!)
        #expect(watch.observe(session: session, status: .active, bricks: pending, now: t0.addingTimeInterval(200)).isEmpty)
        // Completed: announced until learnt (published, or read back from the journal), then never again.
        let completed = watch.observe(session: session, status: .active, bricks: done, now: t0.addingTimeInterval(210))
        #expect(completed == [.completed(CheckpointProgress.of(done))])
        watch.learnCompleted(session: session, checkpointTime: "2026-11-23T04:01:15.000Z")
        #expect(watch.observe(session: session, status: .active, bricks: done, now: t0.addingTimeInterval(220)).isEmpty)
        // A PARTIAL_FAULTY session is not complete, whatever its Active bricks say.
        var other = CheckpointWatch()
        #expect(other.observe(session: UUID(), status: .partialFaulty, bricks: done, now: t0).isEmpty)
    }

    @Test func aSessionThatLeavesActiveBeforeItsCheckpointStalls() throws {
        let session = UUID()
        var watch = CheckpointWatch(stallAfter: 600)
        let t0 = Date()
        _ = watch.observe(session: session, status: .active, bricks: try bricks("status-detail-checkpoint.xml"), now: t0)
        let stopped = watch.observe(session: session, status: .stopped, bricks: try bricks("status-detail-stopped.xml"),
                                    now: t0.addingTimeInterval(30))
        guard case .stalled(.sessionNotActive, let progress, _)? = stopped.first else {
            Issue.record("expected a stall, got \(stopped)")
            return
        }
        #expect(progress.checkpointTime == "2026-11-23T04:01:15.000Z")
        // Once.
        #expect(watch.observe(session: session, status: .stopped, bricks: [], now: t0.addingTimeInterval(60)).isEmpty)
    }

    @Test func aCompletionLongPastOnGlustersClockIsNotAnnouncedByANewcomer() throws {
        var done = try bricks("status-detail-checkpoint-done.xml")
        for i in done.indices { done[i].lastSynced = Timestamp.parseUTCWallClock("2026-11-25 04:02:00") }  // two days later
        var watch = CheckpointWatch()
        #expect(watch.observe(session: UUID(), status: .active, bricks: done, now: Date()).isEmpty)
    }

    @Test func aWaitSucceedsOnItsCheckpointAndFailsTyped() throws {
        let ref = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: "vm", secondaryVolume: "svol")
        let now = Date()
        let wait = CommandWaiting(commandId: UUID(), action: "checkpoint", session: ref, checkpointTime: "2026-11-23T04:01:15.000Z",
                                  since: now, deadline: now.addingTimeInterval(60), replyTo: nil, correlationId: nil)
        let pending = CheckpointProgress.of(try bricks("status-detail-checkpoint.xml"))
        let done = CheckpointProgress.of(try bricks("status-detail-checkpoint-done.xml"))
        #expect(CheckpointWait.decide(wait, status: .active, progress: pending, now: now) == .pending)
        guard case .succeeded(let message) = CheckpointWait.decide(wait, status: .active, progress: done, now: now) else {
            Issue.record("expected success")
            return
        }
        #expect(message.contains("04:02:05"))
        // An older checkpoint completed is not this one.
        var older = wait
        older.checkpointTime = "2026-11-23T05:00:00.000Z"
        #expect(CheckpointWait.decide(older, status: .active, progress: done, now: now) == .pending)
        guard case .failed(let expired) = CheckpointWait.decide(wait, status: .active, progress: pending, now: now.addingTimeInterval(61)),
              case .failed(let stopped) = CheckpointWait.decide(wait, status: .stopped, progress: nil, now: now),
              case .failed(let gone) = CheckpointWait.decide(wait, status: nil, progress: nil, now: now)
        else {
            Issue.record("expected failures")
            return
        }
        #expect(expired.code == "checkpoint_wait_expired")
        #expect(expired.detail?.contains("0 of 2 active brick(s)") == true)
        #expect(stopped.code == "checkpoint_session_not_active")
        #expect(gone.code == "session_not_found")
        // UNKNOWN (the cluster could not be asked) keeps waiting.
        #expect(CheckpointWait.decide(wait, status: .unknown, progress: nil, now: now) == .pending)
    }
}
