import Foundation
import GeoRepCore
import Testing

@Suite struct MessageCodecTests {
    let ref = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: "vm", secondaryVolume: "svol")

    @Test func commandRoundTripsAsCloudEvent() throws {
        let command = Command(action: .configSet, session: ref, options: CommandOptions(key: "sync-jobs", value: "5"), sender: "test")
        let bytes = try MessageCodec.encode(command, source: "test")
        let json = try JSONSerialization.jsonObject(with: Data(bytes)) as! [String: Any]
        #expect(json["specversion"] as? String == "1.0")
        #expect(json["type"] as? String == "georep.command.config.set")
        #expect(json["subject"] as? String == "lab/mvol/root@vm::svol")
        let data = json["data"] as! [String: Any]
        #expect(data["command_id"] as? String != nil)
        #expect((data["session"] as! [String: Any])["primary_volume"] as? String == "mvol")
        let decoded = try MessageCodec.decodeCommand(bytes)
        #expect(decoded.commandId == command.commandId)
        #expect(decoded.options.value == "5")
    }

    @Test func checkpointEventsAndWaitsRoundTrip() throws {
        var clock = ObservationClock()
        let o = clock.next(now: Date(), cause: .monitor)
        let progress = CheckpointProgress(state: .completed, checkpointTime: "2026-11-23 04:01:15", completionTime: "2026-11-23 04:02:05",
                                          activeBricks: 2, completedBricks: 2, oldestLastSynced: "2026-11-23 04:02:00")
        let wait = CommandWaiting(commandId: UUID(), action: "checkpoint", session: ref, checkpointTime: nil, since: Date(),
                                  deadline: Date().addingTimeInterval(60), replyTo: "amq.gen-1", correlationId: "x")
        let events: [Event] = [
            .checkpointCompleted(CheckpointCompleted(session: ref, progress: progress, observation: o)),
            .checkpointStalled(CheckpointStalled(session: ref, reason: .sessionNotActive, status: .stopped, progress: progress,
                                                 stalledSeconds: 3, observation: o)),
            .commandWaiting(wait),
        ]
        for event in events {
            let decoded = try MessageCodec.decodeEvent(MessageCodec.encode(event, source: "test"))
            #expect(decoded.header.type == event.type)
            #expect(decoded.event.type == event.type)
            #expect(Event.allTypes.contains(event.type))
        }
        guard case .checkpointCompleted(let c) = try MessageCodec.decodeEvent(MessageCodec.encode(events[0], source: "t")).event else {
            Issue.record("not a completion")
            return
        }
        #expect(c.durationSeconds == 50 && c.completedAt == "2026-11-23 04:02:05")
        #expect(events[0].routingKey == "georep.session.checkpoint.completed" && events[2].routingKey == "georep.command.waiting")
    }

    @Test func scheduleCommandsAndWindowEventsRoundTrip() throws {
        let start = Timestamp.parse("2026-11-30T02:00:00Z")!
        let window = SyncSchedule.Window(start: start, end: start + 600)
        let schedule = SyncSchedule(windows: [window], daily: .init(at: "03:00", minutes: 30))
        let command = Command(action: .schedule, session: ref, options: CommandOptions(schedule: schedule), sender: "t")
        let bytes = try MessageCodec.encode(command, source: "t")
        #expect(String(decoding: bytes, as: UTF8.self).contains(#""type":"georep.command.schedule""#))
        #expect(try MessageCodec.decodeCommand(bytes).options.schedule == schedule)
        // A schedule command without a schedule, or with a bad one, is refused before any worker acts on it.
        #expect(throws: ValidationError.self) { try Command(action: .schedule, session: ref, sender: "t").validate() }
        #expect(throws: ValidationError.self) {
            try Command(action: .schedule, session: ref, options: CommandOptions(schedule: SyncSchedule(daily: .init(at: "7:00", minutes: 5))),
                        sender: "t").validate()
        }
        try Command(action: .schedule, session: ref, options: CommandOptions(schedule: SyncSchedule()), sender: "t").validate()

        let set = ScheduleSet(session: ref, schedule: schedule, commandId: command.commandId, setAt: start - 60, publishedAt: start - 60)
        #expect(set.nextWindow == window)
        let events: [Event] = [
            .scheduleSet(set),
            .windowOpened(SyncWindowOpened(session: ref, window: window, started: true, checkpointTime: start + 1, openedAt: start + 1)),
            .windowClosed(SyncWindowClosed(session: ref, window: window, outcome: .completed, stopped: true, progress: nil, closedAt: start + 9)),
            .windowClosed(SyncWindowClosed(session: ref, window: window, outcome: .missed, stopped: false, progress: nil, closedAt: start + 600)),
        ]
        #expect(events.map(\.routingKey) == ["georep.session.schedule.set", "georep.session.window.opened",
                                              "georep.session.window.completed", "georep.session.window.missed"])
        for event in events {
            let decoded = try MessageCodec.decodeEvent(MessageCodec.encode(event, source: "test"))
            #expect(decoded.event == event)
            #expect(Event.allTypes.contains(event.type))
        }
        // An outcome that disagrees with the type is refused, not read as the other one.
        let missed = String(decoding: try MessageCodec.encode(events[3], source: "t"), as: UTF8.self)
            .replacingOccurrences(of: "georep.session.window.missed", with: "georep.session.window.completed")
        #expect(throws: MessageError.self) { try MessageCodec.decodeEvent(Array(missed.utf8)) }
    }

    @Test func aCheckpointsWaitIsBounded() throws {
        for (wait, ok) in [(1, true), (CommandOptions.maxWaitSeconds, true), (0, false), (-5, false), (CommandOptions.maxWaitSeconds + 1, false)] {
            let command = Command(action: .checkpoint, session: ref, options: CommandOptions(wait: wait), sender: "test")
            #expect(((try? command.validate()) != nil) == ok, "wait \(wait)")
        }
        let bytes = try MessageCodec.encode(Command(action: .checkpoint, session: ref, options: CommandOptions(wait: 600), sender: "t"), source: "t")
        #expect(try MessageCodec.decodeCommand(bytes).options.wait == 600)
    }

    @Test func unknownActionIsTyped() throws {
        let body = envelope(action: "frobnicate", volume: "mvol")
        #expect(throws: MessageError.unknownAction("frobnicate")) { try MessageCodec.decodeCommand(body) }
        let salvaged = MessageCodec.salvageCommand(body)
        #expect(salvaged.action == "frobnicate")
        #expect(salvaged.commandId != nil)
    }

    @Test func hostileNameIsRejectedBeforeAnything() {
        let body = envelope(action: "start", volume: "mvol;touch /tmp/x")
        do {
            _ = try MessageCodec.decodeCommand(body)
            Issue.record("accepted")
        } catch {
            #expect(error.code == "invalid_value")
            #expect(error.description.contains("session.primary_volume"))
        }
    }

    @Test(arguments: ["", "not json", "[1,2]", "{\"specversion\":\"1.0\"}", "{\"data\":{}}"])
    func malformedMessagesAreTyped(text: String) {
        #expect(throws: MessageError.self) { try MessageCodec.decodeCommand(Array(text.utf8)) }
    }

    @Test func missingFieldNamesThePath() {
        let text = #"{"specversion":"1.0","id":"1","source":"t","type":"georep.command.start","data":{"command_id":"6f1c1a2e-3b7d-4c1e-9a40-6a6f2f0e4e01","action":"start","session":{"cluster":"lab","primary_volume":"mvol","secondary_host":"vm"}}}"#
        #expect(throws: MessageError.badField(path: "data.session.secondary_volume", reason: "is required")) {
            try MessageCodec.decodeCommand(Array(text.utf8))
        }
    }

    @Test func tooLargeIsRefusedUnparsed() {
        let big = [UInt8](repeating: 0x20, count: MessageCodec.maxMessageBytes + 1)
        #expect(throws: MessageError.tooLarge(bytes: big.count, limit: MessageCodec.maxMessageBytes)) { try MessageCodec.decodeCommand(big) }
    }

    @Test func eventsRoundTripWithRoutingKeys() throws {
        var clock = ObservationClock()
        let o1 = clock.next(now: Date(timeIntervalSince1970: 100), cause: .monitor)
        let o2 = clock.next(now: Date(timeIntervalSince1970: 100), cause: .command(UUID()))
        #expect(o2.seq > o1.seq)
        let change = Event.sessionStatusChanged(SessionStatusChanged(session: ref, from: .active, to: .partialFaulty, observation: o2))
        #expect(change.routingKey == "georep.session.status.partial_faulty")
        let decoded = try MessageCodec.decodeEvent(try MessageCodec.encode(change, source: "t"))
        #expect(decoded.event == change)
        let snapshot = Event.sessionSnapshot(SessionSnapshot(
            session: ref, sessionKey: "k", primaryVolumeId: nil, secondaryVolumeId: nil, status: .active,
            bricks: [BrickDetail(primaryNode: "vm", primaryBrick: "/b1", status: .active, rawStatus: "Active", data: 3)],
            options: ["sync_jobs": "3"], observation: o1))
        #expect(try MessageCodec.decodeEvent(try MessageCodec.encode(snapshot, source: "t")).event == snapshot)
    }

    /// The envelope's subject is the payload's (``EventPayload``): the session's key, the cluster
    /// for a cluster event, none for a result too broken to name a session. The routing key is
    /// the type but for status changes; every event reads back as sent.
    @Test func everyEventNamesItsSubjectAndRoutingKey() throws {
        var clock = ObservationClock()
        let at = Date(timeIntervalSince1970: 1_700_000_000)
        let o = clock.next(now: at, cause: .monitor)
        let window = SyncSchedule.Window(start: at, end: at.addingTimeInterval(600))
        let cases: [(event: Event, subject: String?, routingKey: String)] = [
            (.sessionDeleted(SessionDeleted(session: ref, observation: o)), ref.key, "georep.session.deleted"),
            (.brickStatusChanged(BrickStatusChanged(session: ref, brickId: nil, brick: "vm:/b1", from: .active, to: .faulty, observation: o)),
             ref.key, "georep.brick.status.faulty"),
            (.windowOpened(SyncWindowOpened(session: ref, window: window, started: true, checkpointTime: at, openedAt: at)),
             ref.key, "georep.session.window.opened"),
            (.clusterInventory(ClusterInventory(cluster: "lab", volumes: [], sessionIds: nil, observation: o)), "lab", "georep.cluster.inventory"),
            (.clusterAvailability(ClusterAvailability(cluster: "lab", available: false, host: "vm", since: at, cause: "x", observedAt: at)),
             "lab", "georep.cluster.unavailable"),
            (.commandResult(CommandResult(commandId: nil, action: "?", session: nil, outcome: .rejected, message: "no", finishedAt: at)),
             nil, "georep.command.rejected"),
        ]
        for (event, subject, routingKey) in cases {
            #expect(event.subject == subject)
            #expect(event.routingKey == routingKey)
            let decoded = try MessageCodec.decodeEvent(try MessageCodec.encode(event, source: "t"))
            #expect(decoded.header.subject == subject)
            #expect(decoded.header.type == event.type)
            #expect(decoded.event == event)
        }
    }

    /// A brick's gluster times travel as RFC 3339; a snapshot from a worker that still sent
    /// gluster's own spelling (UTC) decodes to the same instants, and only those fields take it.
    @Test func brickTimesAreRFC3339AndOldWorkersSpellingIsRead() throws {
        let synced = try #require(Timestamp.parse("2026-11-23T03:58:02Z"))
        var clock = ObservationClock()
        let snapshot = Event.sessionSnapshot(SessionSnapshot(
            session: ref, sessionKey: "k", primaryVolumeId: nil, secondaryVolumeId: nil, status: .active,
            bricks: [BrickDetail(primaryNode: "vm", primaryBrick: "/b1", status: .active, rawStatus: "Active",
                                 checkpointTime: synced, lastSynced: synced)],
            options: nil, observation: clock.next(now: Date(timeIntervalSince1970: 100), cause: .monitor)))
        let text = String(decoding: try MessageCodec.encode(snapshot, source: "t"), as: UTF8.self)
        #expect(text.contains(#""last_synced":"2026-11-23T03:58:02.000Z""#))
        let old = text.replacingOccurrences(of: "2026-11-23T03:58:02.000Z", with: "2026-11-23 03:58:02")
        #expect(old.contains(#""last_synced":"2026-11-23 03:58:02""#) && old.contains(#""checkpoint_time":"2026-11-23 03:58:02""#))
        #expect(try MessageCodec.decodeEvent(Array(old.utf8)).event == snapshot)
        // The observation's time was always RFC 3339: gluster's spelling there is still refused.
        let wrongPlace = old.replacingOccurrences(of: #""at":"1970-01-01T00:01:40.000Z""#, with: #""at":"1970-01-01 00:01:40""#)
        #expect(wrongPlace != old)
        #expect(throws: MessageError.self) { try MessageCodec.decodeEvent(Array(wrongPlace.utf8)) }
    }

    func envelope(action: String, volume: String) -> [UInt8] {
        let volumeJSON = String(data: try! JSONEncoder().encode(volume), encoding: .utf8)!
        let text = """
            {"specversion":"1.0","id":"x","source":"t","type":"georep.command.\(action)","time":"2026-11-24T00:00:00Z",
             "datacontenttype":"application/json","data":{"command_id":"6f1c1a2e-3b7d-4c1e-9a40-6a6f2f0e4e01","action":"\(action)",
             "session":{"cluster":"lab","primary_volume":\(volumeJSON),"secondary_host":"vm","secondary_volume":"svol"},"sender":"t"}}
            """
        return Array(text.utf8)
    }

    /// Found by the fuzz run: a session that is a string, a number or an array once crashed the
    /// worker in the salvage of a rejected command's names.
    @Test func salvagingSurvivesASessionOfTheWrongType() {
        for session in [#""lab/mvol/vm::svol""#, "42", "[1, 2]", "null", "true", #"{"cluster": 5}"#] {
            let text = #"{"specversion":"1.0","id":"1","source":"t","type":"georep.command.start","data":{"command_id":"6f1c1a2e-3b7d-4c1e-9a40-6a6f2f0e4e01","action":"start","session":"# + session + "}}"
            #expect(throws: MessageError.self) { try MessageCodec.decodeCommand(Array(text.utf8)) }
            let salvaged = MessageCodec.salvageCommand(Array(text.utf8))
            #expect(salvaged.session == nil)
            #expect(salvaged.action == "start")
        }
    }
}
