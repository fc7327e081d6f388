import Foundation
import GeoRepCore
import Persister
import Postgres
import Testing

extension Integration.PersisterTests {
    /// Schedules and windows as the persister stores them: a schedule read late does not replace
    /// a newer one, a clear is kept (so an older copy cannot bring the schedule back), and a
    /// window's rows survive replays — a closed window stays closed with its first outcome; and
    /// `georep status` shows the next window from the stored schedule.
    @Test func schedulesAndWindowsAreStoredOnceAndReplaysAreHarmless() async throws {
        let session = ref(1)
        let id = session.sessionID.uuidString
        let t0 = Timestamp.parse("2026-11-30T02:00:00Z")!
        let window = SyncSchedule.Window(start: t0, end: t0 + 600)
        let newer = ScheduleSet(session: session, schedule: SyncSchedule(daily: .init(at: "02:00", minutes: 10)), commandId: UUID(), setAt: t0 - 60)
        let older = ScheduleSet(session: session, schedule: SyncSchedule(windows: [window]), commandId: UUID(), setAt: t0 - 120)
        let progress = CheckpointProgress(state: .pending, checkpointTime: Timestamp.format(t0 + 1), completionTime: nil, activeBricks: 2,
                                          completedBricks: 1, oldestLastSynced: Timestamp.format(t0 + 300))
        let opened = Event.windowOpened(SyncWindowOpened(session: session, window: window, started: true, checkpointTime: t0 + 1, openedAt: t0 + 1))
        let missed = Event.windowClosed(SyncWindowClosed(session: session, window: window, outcome: .missed, stopped: true, progress: progress,
                                                         closedAt: t0 + 600))
        do {
            try await apply([snapshot(session, seq: 1, status: .stopped), .scheduleSet(newer)])
            try await apply([.scheduleSet(older)])
            #expect(try await scalar("SELECT schedule->'daily'->>'at' FROM georep_session_schedules WHERE session_id = $1", [id]) == "02:00")
            // georep status shows the next window beside the last checkpoint.
            let status = runCommandCapturing([StandinLab.repository.appendingPathComponent(".build/debug/georep").path,
                                              "status", "--json", "--cluster", cluster])
            let fleet = try JSONSerialization.jsonObject(with: Data(status.output.utf8)) as? [String: Any]
            let listed = ((fleet?["clusters"] as? [[String: Any]])?.first?["sessions"] as? [[String: Any]])?.first
            let next = listed?["next_window"] as? [String: Any]
            #expect((next?["start"] as? String)?.hasSuffix("T02:00Z") == true && (next?["end"] as? String)?.hasSuffix("T02:10Z") == true,
                    "\(status.output)")
            let plain = runCommandCapturing([StandinLab.repository.appendingPathComponent(".build/debug/georep").path, "status", "--cluster", cluster])
            #expect(plain.output.contains("NEXT WINDOW") && plain.output.contains("T02:00Z - "), "\(plain.output)")
            try await apply([opened])
            #expect(try await scalar("SELECT coalesce(outcome, 'OPEN') FROM georep_session_windows WHERE session_id = $1", [id]) == "OPEN")
            try await apply([missed, opened])  // the opening read again after the close
            let row = try await scalar("""
                SELECT outcome || ' ' || started || ' ' || stopped || ' ' || completed_bricks || '/' || active_bricks || ' ' || oldest_last_synced::text
                FROM georep_session_windows WHERE session_id = $1
                """, [id])
            #expect(row == "MISSED true true 1/2 2026-11-30 02:05:00", "\(row ?? "no row")")
            try await apply([.windowClosed(SyncWindowClosed(session: session, window: window, outcome: .completed, stopped: false, progress: nil))])
            #expect(try await scalar("SELECT outcome FROM georep_session_windows WHERE session_id = $1", [id]) == "MISSED")
            #expect(try await scalar("SELECT count(*) FROM georep_session_windows WHERE session_id = $1", [id]) == "1")
            // Cleared, then the older copy again: it stays cleared.
            try await apply([.scheduleSet(ScheduleSet(session: session, schedule: SyncSchedule(), commandId: UUID(), setAt: t0))])
            try await apply([.scheduleSet(newer)])
            #expect(try await scalar("SELECT schedule::text FROM georep_session_schedules WHERE session_id = $1", [id]) == #"{"windows": []}"#)
        } catch {
            try await cleanupWindows(id)
            try await cleanup()
            throw error
        }
        try await cleanupWindows(id)
        try await cleanup()
    }

    func cleanupWindows(_ id: String) async throws {
        try await database.run { (db) throws(PGError) in
            try db.execute("DELETE FROM georep_session_windows WHERE session_id = $1", [id])
            try db.execute("DELETE FROM georep_session_schedules WHERE session_id = $1", [id])
        }
    }
}
