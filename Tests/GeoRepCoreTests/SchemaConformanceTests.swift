import Foundation
import GeoRepCore
import Testing

/// Every kind of message the service produces, checked against `Schemas/messages` by the
/// `jsonschema` Python package (a validator that is not ours), including negative cases so
/// that a validator that accepts everything would fail this test.
@Suite struct SchemaConformanceTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func producedMessagesMatchTheirSchemas() async throws {
        let ref = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: "vm", secondaryVolume: "svol", secondaryUser: "geo")
        var clock = ObservationClock()
        let o = clock.next(now: Date(), cause: .command(UUID()))
        let brick = BrickDetail(brickId: UUID(), primaryNode: "vm", primaryNodeUuid: "7be8d38a-8d56-484f-bc15-48d6c08a17f2",
                                primaryBrick: "/b1", secondaryUser: "geo", secondaryHost: "vm", status: .active, rawStatus: "Active",
                                crawlStatus: "Changelog Crawl", entry: 0, data: 1, meta: 2, failures: 0, checkpointCompleted: true,
                                lastSynced: Timestamp.parse("2026-11-23T03:58:02Z"))
        let window = SyncSchedule.Window(start: Date(), end: Date().addingTimeInterval(600))
        let schedule = SyncSchedule(windows: [window], daily: .init(at: "02:00", minutes: 60))
        let events: [(String, Event)] = [
            ("command-result.schema.json", .commandResult(CommandResult(commandId: UUID(), action: "start", session: ref, outcome: .succeeded, message: "ok"))),
            ("command-result.schema.json", .commandResult(CommandResult(commandId: nil, action: "frobnicate", session: nil, outcome: .rejected,
                                                                        message: "no", error: ErrorInfo(code: "unknown_action", message: "no")))),
            ("command-result.schema.json", .commandResult(CommandResult(commandId: UUID(), action: "config.set", session: ref, outcome: .succeeded,
                                                                        message: "ok", grant: OptionGrant.Record(
                                                                            option: "ssh-command", kind: .executing, value: "/usr/bin/ssh",
                                                                            grantedTo: "georep-api", sender: "georep-api (admin token)")))),
            ("session-status-changed.schema.json", .sessionStatusChanged(SessionStatusChanged(session: ref, from: nil, to: .initializing, observation: o))),
            ("brick-status-changed.schema.json", .brickStatusChanged(BrickStatusChanged(session: ref, brickId: UUID(), brick: "vm:/b1", from: .initializing, to: .active, observation: o))),
            ("session-snapshot.schema.json", .sessionSnapshot(SessionSnapshot(session: ref, sessionKey: "k", primaryVolumeId: "v", secondaryVolumeId: "s",
                                                                             status: .active, bricks: [brick], options: ["sync_jobs": "3"], observation: o))),
            ("session-deleted.schema.json", .sessionDeleted(SessionDeleted(session: ref, observation: o))),
            ("cluster-inventory.schema.json", .clusterInventory(ClusterInventory(cluster: "lab", volumes: [
                ClusterInventory.Volume(id: UUID().uuidString, name: "mvol", status: "Started", bricks: [
                    ClusterInventory.Brick(id: UUID(), host: "vm", path: "/b1", hostUuid: UUID().uuidString)]),
            ], sessionIds: [ref.sessionID], observation: o))),
            ("cluster-inventory.schema.json", .clusterInventory(ClusterInventory(cluster: "lab", volumes: [], sessionIds: nil, observation: o))),
            ("command-accepted.schema.json", .commandAccepted(CommandAccepted(command: Command(action: .start, session: ref, sender: "api")))),
            ("cluster-availability.schema.json", .clusterAvailability(ClusterAvailability(
                cluster: "lab", available: false, host: "vm", since: Date(), cause: "glusterd on vm is waiting for gverify.sh (pid 4242, 310 s)",
                stuckProcesses: [StuckProcess(pid: 4242, kind: .gverify, seconds: 310, command: "/bin/bash /usr/lib/x86_64-linux-gnu/glusterfs/gverify.sh mvol root vm svol 22 /tmp/x")]))),
            ("cluster-availability.schema.json", .clusterAvailability(ClusterAvailability(
                cluster: "lab", available: true, host: "vm", since: Date(), recoveredAt: Date(), cause: "answers again"))),
            ("checkpoint-completed.schema.json", .checkpointCompleted(CheckpointCompleted(session: ref, progress: CheckpointProgress(
                state: .completed, checkpointTime: "2026-11-23 04:01:15", completionTime: "2026-11-23 04:02:05", activeBricks: 2,
                completedBricks: 2, oldestLastSynced: "2026-11-23 04:02:00"), observation: o))),
            ("checkpoint-stalled.schema.json", .checkpointStalled(CheckpointStalled(session: ref, reason: .noProgress, status: .active,
                progress: CheckpointProgress(state: .pending, checkpointTime: "2026-11-23 04:01:15", completionTime: nil, activeBricks: 2,
                                             completedBricks: 1, oldestLastSynced: "2026-11-23 03:58:02"), stalledSeconds: 600, observation: o))),
            ("command-waiting.schema.json", .commandWaiting(CommandWaiting(commandId: UUID(), action: "checkpoint", session: ref,
                checkpointTime: "2026-11-23 04:01:15", since: Date(), deadline: Date().addingTimeInterval(600), replyTo: "amq.gen-x",
                correlationId: "c"))),
            ("schedule-set.schema.json", .scheduleSet(ScheduleSet(session: ref, schedule: schedule, commandId: UUID(), setAt: Date()))),
            ("schedule-set.schema.json", .scheduleSet(ScheduleSet(session: ref, schedule: SyncSchedule(), commandId: nil, setAt: Date()))),
            ("window-opened.schema.json", .windowOpened(SyncWindowOpened(session: ref, window: window, started: true, checkpointTime: Date()))),
            ("window-closed.schema.json", .windowClosed(SyncWindowClosed(session: ref, window: window, outcome: .completed, stopped: true,
                progress: CheckpointProgress(state: .completed, checkpointTime: Timestamp.format(window.start), completionTime: Timestamp.format(window.start + 30),
                                             activeBricks: 2, completedBricks: 2, oldestLastSynced: Timestamp.format(window.start + 29))))),
            ("window-closed.schema.json", .windowClosed(SyncWindowClosed(session: ref, window: window, outcome: .missed, stopped: false,
                                                                       progress: nil))),
        ]
        var cases: [[String: Any]] = []
        for (schema, event) in events {
            cases.append(["schema": schema, "message": try JSONSerialization.jsonObject(with: Data(MessageCodec.encode(event, source: "test")))])
        }
        for action in CommandAction.allCases {
            let command = Command(action: action, session: ref, options: CommandOptions(force: true, key: "sync-jobs", value: "4",
                                                                                      wait: action == .checkpoint ? 600 : nil,
                                                                                      schedule: action == .schedule ? schedule : nil), sender: "test")
            let message = try JSONSerialization.jsonObject(with: Data(MessageCodec.encode(command, source: "test")))
            cases.append(["schema": "command.schema.json", "message": message])
            cases.append(["schema": "commands/\(action.rawValue).schema.json", "message": message])
        }
        let encoder = MessageCodec.encoder()
        for (schema, value) in [("worker-heartbeat.schema.json", try encoder.encode(WorkerHeartbeat(instance: "vm/1", shards: [0, 3], leaving: true))),
                                ("handover-marker.schema.json", try encoder.encode(HandoverMarker(instance: "vm/1"))),
                                ("journal-marker.schema.json", try encoder.encode(JournalMarker(instance: "vm/1"))),
                                ("monitor-tick.schema.json", try encoder.encode(MonitorTick(cluster: "lab", instance: "vm/1")))] {
            cases.append(["schema": schema, "message": try JSONSerialization.jsonObject(with: value)])
        }
        #expect(try await validate(cases) == 0)

        // The schemas must also refuse: a hostile volume name, an unknown status, a missing field.
        var hostile = cases[events.count]["message"] as! [String: Any]
        var data = hostile["data"] as! [String: Any]
        var session = data["session"] as! [String: Any]
        session["primary_volume"] = "vol;touch /tmp/x"
        data["session"] = session
        hostile["data"] = data
        var badStatus = cases.first { $0["schema"] as? String == "session-status-changed.schema.json" }!["message"] as! [String: Any]
        var statusData = badStatus["data"] as! [String: Any]
        statusData["to"] = "SORT_OF_OK"
        badStatus["data"] = statusData
        var missing = cases[0]["message"] as! [String: Any]
        missing.removeValue(forKey: "specversion")
        // A config.set without the option's name; a start sent as a stop.
        let noKey = try JSONSerialization.jsonObject(with: Data(MessageCodec.encode(
            Command(action: .configSet, session: ref, options: CommandOptions(value: "4"), sender: "test"), source: "test")))
        let start = try JSONSerialization.jsonObject(with: Data(MessageCodec.encode(Command(action: .start, session: ref, sender: "test"), source: "test")))
        #expect(try await validate([
            ["schema": "commands/config.set.schema.json", "message": noKey],
            ["schema": "commands/stop.schema.json", "message": start],
        ]) == 3)  // missing key; and the stop schema refuses both the type and the action of a start
        // A brick time as earlier workers spelt it is valid; one that is no time at all is not.
        let snapshotText = String(decoding: try JSONSerialization.data(withJSONObject: cases.first {
            $0["schema"] as? String == "session-snapshot.schema.json" }!["message"]!), as: UTF8.self)
        let synced = #""last_synced":"2026-11-23T03:58:02.000Z""#
        #expect(snapshotText.contains(synced))
        func snapshot(lastSynced: String) throws -> Any {
            try JSONSerialization.jsonObject(with: Data(snapshotText.replacingOccurrences(of: synced, with: #""last_synced":"\#(lastSynced)""#).utf8))
        }
        #expect(try await validate([["schema": "session-snapshot.schema.json", "message": try snapshot(lastSynced: "2026-11-23 03:58:02")]]) == 0)
        #expect(try await validate([["schema": "session-snapshot.schema.json", "message": try snapshot(lastSynced: "yesterday")]]) == 1)
        // A schedule at an hour that does not exist.
        let badHour = String(decoding: try JSONSerialization.data(withJSONObject: cases.first {
            $0["schema"] as? String == "commands/schedule.schema.json" }!["message"]!), as: UTF8.self)
        #expect(badHour.contains(#""at":"02:00""#))
        #expect(try await validate([["schema": "commands/schedule.schema.json", "message": try JSONSerialization.jsonObject(
            with: Data(badHour.replacingOccurrences(of: #""at":"02:00""#, with: #""at":"25:00""#).utf8))]]) == 1)
        #expect(try await validate([
            ["schema": "command.schema.json", "message": hostile],
            ["schema": "session-status-changed.schema.json", "message": badStatus],
            ["schema": "command-result.schema.json", "message": missing],
        ]) == 3)
    }

    /// Runs the validator; returns the number of violations it printed.
    func validate(_ cases: [[String: Any]]) async throws -> Int {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("georep-schema-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: cases).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let output = await runOffPool(["python3", Self.repository.appendingPathComponent("ops/check-schemas.py").path, file.path], stderr: false).output
        let summary = output.split(separator: "\n").last.map(String.init) ?? ""
        let count = summary.split(separator: " ").dropFirst(3).first.flatMap { Int($0) }
        #expect(count != nil, "the validator did not run: \(output)")
        if count != 0 { print(output) }
        return count ?? -1
    }
}
