import Foundation
import GeoRepCore
import Testing

@Suite struct SyncScheduleTests {
    let t0 = Timestamp.parse("2026-11-30T02:00:00Z")!

    @Test func explicitWindowsAreFoundAndTheNextOneFollows() throws {
        let a = SyncSchedule.Window(start: t0, end: t0 + 600)
        let b = SyncSchedule.Window(start: t0 + 3600, end: t0 + 4200)
        let s = SyncSchedule(windows: [b, a])
        try s.validate(field: "options.schedule")
        #expect(s.window(containing: t0 - 1) == nil)
        #expect(s.window(containing: t0) == a)
        #expect(s.window(containing: t0 + 599) == a)
        #expect(s.window(containing: t0 + 600) == nil, "the end is exclusive")
        #expect(s.next(after: t0 - 1) == a)
        #expect(s.next(after: t0) == b)
        #expect(s.next(after: t0 + 3600) == nil)
    }

    @Test func aDailyWindowRecursEveryDayInUTC() throws {
        let s = SyncSchedule(daily: .init(at: "23:30", minutes: 60))
        try s.validate(field: "s")
        let late = Timestamp.parse("2026-11-30T23:45:00Z")!
        let afterMidnight = Timestamp.parse("2026-12-01T00:10:00Z")!
        let expected = SyncSchedule.Window(start: Timestamp.parse("2026-11-30T23:30:00Z")!, end: Timestamp.parse("2026-12-01T00:30:00Z")!)
        #expect(s.window(containing: late) == expected)
        #expect(s.window(containing: afterMidnight) == expected, "a window over midnight belongs to the day it started")
        #expect(s.window(containing: Timestamp.parse("2026-12-01T00:30:00Z")!) == nil)
        #expect(s.next(after: afterMidnight)?.start == Timestamp.parse("2026-12-01T23:30:00Z")!)
        #expect(s.next(after: Timestamp.parse("2026-11-30T10:00:00Z")!) == expected)
    }

    @Test func theEarlierOfDailyAndExplicitIsNext() {
        let explicit = SyncSchedule.Window(start: t0 + 60, end: t0 + 120)
        let s = SyncSchedule(windows: [explicit], daily: .init(at: "03:00", minutes: 10))
        #expect(s.next(after: t0) == explicit)
        #expect(s.next(after: t0 + 60)?.start == Timestamp.parse("2026-11-30T03:00:00Z")!)
    }

    @Test func theJSONSpellingDecodesToTheSameSchedule() throws {
        let s = SyncSchedule(windows: [.init(start: t0, end: t0 + 600)], daily: .init(at: "23:30", minutes: 60))
        #expect(try MessageCodec.decoder().decode(SyncSchedule.self, from: Data(s.json.utf8)) == s)
        #expect(try MessageCodec.decoder().decode(SyncSchedule.self, from: Data(SyncSchedule().json.utf8)) == SyncSchedule())
    }

    @Test func badSchedulesAreRefusedWithTheFieldNamed() {
        func field(_ s: SyncSchedule) -> String? {
            do { try s.validate(field: "options.schedule"); return nil } catch { return error.field }
        }
        #expect(field(SyncSchedule(windows: [.init(start: t0, end: t0)])) == "options.schedule.windows[0].end")
        #expect(field(SyncSchedule(windows: [.init(start: t0, end: t0 + 721 * 60)])) == "options.schedule.windows[0].end")
        #expect(field(SyncSchedule(windows: [.init(start: t0, end: t0 + 600), .init(start: t0 + 300, end: t0 + 900)])) == "options.schedule.windows")
        #expect(field(SyncSchedule(windows: Array(repeating: .init(start: t0, end: t0 + 1), count: 501))) == "options.schedule.windows")
        for at in ["24:00", "2:00", "02:60", "0a:00", "02-00", "", "02:00:00", "٠٢:٠٠"] {
            #expect(field(SyncSchedule(daily: .init(at: at, minutes: 10))) == "options.schedule.daily.at", "\(at)")
        }
        #expect(field(SyncSchedule(daily: .init(at: "02:00", minutes: 0))) == "options.schedule.daily.minutes")
        #expect(field(SyncSchedule(daily: .init(at: "02:00", minutes: 721))) == "options.schedule.daily.minutes")
        #expect(field(SyncSchedule(daily: .init(at: "00:00", minutes: 720))) == nil)
        #expect(field(SyncSchedule()) == nil, "an empty schedule clears it")
    }
}

@Suite struct SyncWindowRuleTests {
    let t0 = Timestamp.parse("2026-11-30T02:00:00Z")!
    var window: SyncSchedule.Window { .init(start: t0, end: t0 + 600) }
    var schedule: SyncSchedule { SyncSchedule(windows: [window]) }

    func progress(_ state: CheckpointProgress.State, checkpoint: Date?) -> CheckpointProgress {
        CheckpointProgress(state: state, checkpointTime: checkpoint.map(Timestamp.format), completionTime: nil, activeBricks: 2,
                           completedBricks: state == .completed ? 2 : 1, oldestLastSynced: nil)
    }

    @Test func aWindowOpensOnceStartingOnlyAStoppedSession() {
        let none = SyncWindowRule.Record()
        #expect(SyncWindowRule.decide(schedule: schedule, record: none, status: .stopped, progress: nil, now: t0 - 1) == .none)
        #expect(SyncWindowRule.decide(schedule: schedule, record: none, status: .stopped, progress: nil, now: t0 + 5) == .open(window, start: true))
        #expect(SyncWindowRule.decide(schedule: schedule, record: none, status: .notStarted, progress: nil, now: t0) == .open(window, start: true))
        #expect(SyncWindowRule.decide(schedule: schedule, record: none, status: .active, progress: nil, now: t0) == .open(window, start: false))
        // Once the journal says it was opened and closed, it never opens again.
        let done = SyncWindowRule.Record(opened: window, closedStart: window.start)
        #expect(SyncWindowRule.decide(schedule: schedule, record: done, status: .stopped, progress: nil, now: t0 + 30) == .none)
        // Nothing is done for a session gluster does not have, one it cannot ask about, or a paused one.
        for status in [nil, GeoRepStatus.unknown, .paused] {
            #expect(SyncWindowRule.decide(schedule: schedule, record: none, status: status, progress: nil, now: t0) == .none)
        }
    }

    @Test func anOpenWindowClosesWhenItsCheckpointCompletesOrItEnds() {
        let open = SyncWindowRule.Record(opened: window)
        // An older checkpoint's completion does not close it.
        let old = progress(.completed, checkpoint: t0 - SyncWindowRule.clockSkew - 1)
        #expect(SyncWindowRule.decide(schedule: schedule, record: open, status: .active, progress: old, now: t0 + 10) == .none)
        #expect(SyncWindowRule.decide(schedule: schedule, record: open, status: .active, progress: progress(.pending, checkpoint: t0),
                                      now: t0 + 10) == .none)
        #expect(SyncWindowRule.decide(schedule: schedule, record: open, status: .active, progress: progress(.completed, checkpoint: t0),
                                      now: t0 + 10) == .complete(window, stop: true))
        // Completed as the journal tells it (the worker that saw it died before stopping).
        let announced = SyncWindowRule.Record(opened: window, completedCheckpoint: Timestamp.format(t0 + 3))
        #expect(SyncWindowRule.decide(schedule: schedule, record: announced, status: .active, progress: nil, now: t0 + 10)
                == .complete(window, stop: true))
        #expect(SyncWindowRule.decide(schedule: schedule, record: announced, status: .stopped, progress: nil, now: t0 + 10)
                == .complete(window, stop: false))
        // The end comes first.
        #expect(SyncWindowRule.decide(schedule: schedule, record: open, status: .active, progress: progress(.pending, checkpoint: t0),
                                      now: t0 + 600) == .miss(window, stop: true))
        #expect(SyncWindowRule.decide(schedule: schedule, record: open, status: .stopped, progress: nil, now: t0 + 900)
                == .miss(window, stop: false))
        #expect(SyncWindowRule.decide(schedule: schedule, record: open, status: .unknown, progress: nil, now: t0 + 900) == .none)
    }

    @Test func theNextWindowOpensAfterTheLastOneClosed() {
        let daily = SyncSchedule(daily: .init(at: "02:00", minutes: 10))
        let record = SyncWindowRule.Record(opened: window, closedStart: t0)
        let tomorrow = SyncSchedule.Window(start: t0 + 86_400, end: t0 + 86_400 + 600)
        #expect(SyncWindowRule.decide(schedule: daily, record: record, status: .stopped, progress: nil, now: t0 + 86_401)
                == .open(tomorrow, start: true))
    }

    @Test func theCheckpointIsSetUnlessGlusterHasTheWindowsOrALaterOne() {
        let start = t0.timeIntervalSince1970
        #expect(SyncWindowRule.needsCheckpoint(glusterCheckpoint: nil, window: window))
        #expect(SyncWindowRule.needsCheckpoint(glusterCheckpoint: 0, window: window))
        #expect(SyncWindowRule.needsCheckpoint(glusterCheckpoint: start - SyncWindowRule.clockSkew - 1, window: window))
        // gluster's clock a little behind ours: its `now` at the window's start still counts.
        #expect(!SyncWindowRule.needsCheckpoint(glusterCheckpoint: start - 5, window: window))
        #expect(!SyncWindowRule.needsCheckpoint(glusterCheckpoint: start + 30, window: window))
    }
}
