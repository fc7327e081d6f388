import Foundation
import GeoRepCore
@testable import Worker
import Testing

/// What every worker learns of schedules and windows from the journal: the newest schedule wins
/// (a re-publication keeps its `set_at`), a cleared one is forgotten, a window's opening and
/// closing are remembered per session, and the owner re-publishes a schedule before the journal
/// forgets it.
@Suite struct SyncWindowsTests {
    let ref = SessionRef(cluster: "lab", primaryVolume: "pvol1", secondaryHost: "standin", secondaryVolume: "svol1")
    let t0 = Timestamp.parse("2026-11-30T02:00:00Z")!
    var window: SyncSchedule.Window { .init(start: t0, end: t0 + 600) }

    @Test func theNewestScheduleWinsAndAClearedOneIsForgotten() async {
        let windows = SyncWindows()
        let newer = ScheduleSet(session: ref, schedule: SyncSchedule(windows: [window]), commandId: UUID(), setAt: t0 - 60, publishedAt: t0 - 60)
        let older = ScheduleSet(session: ref, schedule: SyncSchedule(daily: .init(at: "05:00", minutes: 5)), commandId: UUID(), setAt: t0 - 120)
        await windows.learn(.scheduleSet(newer))
        await windows.learn(.scheduleSet(older))  // read late: it does not replace the newer one
        #expect(await windows.scheduled(cluster: "lab").map(\.set) == [newer])
        #expect(await windows.scheduled(cluster: "other").isEmpty)
        await windows.learn(.scheduleSet(ScheduleSet(session: ref, schedule: SyncSchedule(), commandId: UUID(), setAt: t0)))
        #expect(await windows.scheduled(cluster: "lab").isEmpty)
    }

    @Test func openingsClosingsAndCompletionsMakeTheRecord() async {
        let windows = SyncWindows()
        await windows.learn(.scheduleSet(ScheduleSet(session: ref, schedule: SyncSchedule(windows: [window]), commandId: nil, setAt: t0 - 60)))
        await windows.learn(.windowOpened(SyncWindowOpened(session: ref, window: window, started: true, checkpointTime: t0 + 1)))
        #expect(await windows.scheduled(cluster: "lab").first?.record.openWindow == window)
        #expect(await windows.busyClusters(now: t0 + 30, lead: 5) == ["lab"])
        var clock = ObservationClock()
        let progress = CheckpointProgress(state: .completed, checkpointTime: Timestamp.format(t0 + 1), completionTime: Timestamp.format(t0 + 9),
                                          activeBricks: 2, completedBricks: 2, oldestLastSynced: nil)
        await windows.learn(.checkpointCompleted(CheckpointCompleted(session: ref, progress: progress, observation: clock.next(now: t0, cause: .monitor))))
        #expect(await windows.scheduled(cluster: "lab").first?.record.completedCheckpoint == Timestamp.format(t0 + 1))
        await windows.learn(.windowClosed(SyncWindowClosed(session: ref, window: window, outcome: .completed, stopped: true, progress: progress)))
        let record = await windows.scheduled(cluster: "lab").first?.record
        #expect(record?.openWindow == nil && record?.closedStart == t0)
        #expect(await windows.busyClusters(now: t0 + 30, lead: 5).isEmpty, "a closed window and no next one: nothing to tick for")
    }

    @Test func aScheduleIsPublishedAgainBeforeTheJournalForgetsIt() async {
        let windows = SyncWindows(republishAfter: 3600)
        let set = ScheduleSet(session: ref, schedule: SyncSchedule(daily: .init(at: "02:00", minutes: 30)), commandId: UUID(), setAt: t0,
                              publishedAt: t0)
        await windows.learn(.scheduleSet(set))
        #expect(await windows.due(cluster: "lab", now: t0 + 3599).isEmpty)
        let again = await windows.due(cluster: "lab", now: t0 + 3600)
        #expect(again.count == 1 && again.first?.setAt == t0 && again.first?.commandId == set.commandId && again.first?.publishedAt == t0 + 3600)
        await windows.learn(.scheduleSet(again[0]))
        #expect(await windows.due(cluster: "lab", now: t0 + 3601).isEmpty)
    }
}
