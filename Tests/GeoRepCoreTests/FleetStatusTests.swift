import Foundation
import GeoRepCore
import Testing

@Suite struct FleetStatusTests {
    let fleet = FleetStatus(clusters: [
        FleetStatus.Cluster(cluster: "lab", availability: FleetStatus.Availability(available: false, host: "gl1", since: "2026-11-30T12:00:00Z",
                                                                                 cause: "gverify.sh stuck"),
                            sessions: [
                                FleetStatus.Session(sessionId: "3f0c…", primaryVolume: "mvol", secondary: "root@vm::svol", status: "FAULTY",
                                                    bricks: ["FAULTY": 1, "ACTIVE": 1], observedAt: "2026-11-30T12:01:00Z",
                                                    lastCommand: FleetStatus.LastCommand(commandId: "c1", action: "start", outcome: "succeeded",
                                                                                         at: "2026-11-30T11:00:00Z"),
                                                    lastCheckpoint: FleetStatus.LastCheckpoint(status: "COMPLETED", checkpointTime: "2026-11-30 11:30:00",
                                                                                               completedAt: "2026-11-30 11:30:40", stalledReason: nil),
                                                    nextWindow: FleetStatus.NextWindow(SyncSchedule(daily: .init(at: "02:00", minutes: 90)),
                                                                                       now: Timestamp.parse("2026-11-30T12:00:00Z")!)),
                            ]),
        FleetStatus.Cluster(cluster: "empty", availability: nil, sessions: []),
    ])

    @Test func plainTextHasNoEscapesAndSaysWhatMatters() {
        let text = fleet.text(colour: false)
        #expect(!text.contains("\u{1B}"))
        #expect(text.contains("cluster lab  management plane: UNAVAILABLE since 2026-11-30T12:00:00Z on gl1: gverify.sh stuck"), "\(text)")
        #expect(text.contains("mvol → root@vm::svol  FAULTY  1 ACTIVE, 1 FAULTY  2026-11-30T12:01:00Z  start succeeded 2026-11-30T11:00:00Z  COMPLETED 2026-11-30 11:30:00  2026-12-01T02:00Z - 2026-12-01T03:30Z  3f0c…"), "\(text)")
        #expect(text.contains("LAST COMMAND                          LAST CHECKPOINT                NEXT WINDOW"), "\(text)")
        #expect(text.contains("cluster empty  management plane: not reported\n  no sessions"), "\(text)")
    }

    @Test func colourMarksFaultyRed() {
        let text = fleet.text(colour: true)
        #expect(text.contains("\u{1B}[31mFAULTY\u{1B}[0m"), "\(text)")
        #expect(text.contains("\u{1B}[31mmanagement plane: UNAVAILABLE\u{1B}[0m"), "\(text)")
    }

    @Test func jsonUsesSnakeCaseKeys() throws {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(fleet.json().utf8)) as? [String: Any])
        let session = ((object["clusters"] as? [[String: Any]])?.first?["sessions"] as? [[String: Any]])?.first
        #expect(session?["primary_volume"] as? String == "mvol")
        #expect((session?["last_command"] as? [String: Any])?["outcome"] as? String == "succeeded")
        #expect((session?["bricks"] as? [String: Int]) == ["FAULTY": 1, "ACTIVE": 1])
        #expect((session?["last_checkpoint"] as? [String: Any])?["completed_at"] as? String == "2026-11-30 11:30:40")
        #expect((session?["next_window"] as? [String: Any])?["open"] as? Bool == false)
    }

    @Test func aWindowOpenNowSaysUntilWhen() throws {
        let open = try #require(FleetStatus.NextWindow(SyncSchedule(daily: .init(at: "02:00", minutes: 90)), now: Timestamp.parse("2026-12-01T02:10:00Z")!))
        #expect(open.open && open.end == "2026-12-01T03:30Z")
        #expect(FleetStatus.NextWindow(SyncSchedule(), now: Date()) == nil)
    }
}
