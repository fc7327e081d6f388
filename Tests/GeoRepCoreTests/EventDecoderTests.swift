import Foundation
@testable import GeoRepCore
import Testing

/// The persister's fast path reads an event exactly as the Foundation path does, and leaves to
/// that path whatever it is not sure of (so errors stay worded as before).
@Suite struct EventDecoderTests {
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func events(_ count: Int) -> [Event] {
        var rng = Seeded(state: 19)
        func maybe<T>(_ value: T) -> T? { Bool.random(using: &rng) ? value : nil }
        func text() -> String { ["a", "pvol-1", "ünïcode ✓", "quote\"back\\slash", "tab\tnew\nline", "/bricks/b1", "\u{1F600}"].randomElement(using: &rng)! }
        func status() -> GeoRepStatus { GeoRepStatus.allCases.randomElement(using: &rng)! }
        return (0..<count).map { i in
            let ref = SessionRef(cluster: "c\(i % 7)", primaryVolume: "pvol\(i)", secondaryHost: "Backup.Example", secondaryVolume: "svol",
                                 secondaryUser: maybe("geoaccount"))
            let at = Date(timeIntervalSince1970: Double.random(in: 1.6e9...1.9e9, using: &rng))
            let observation = Observation(seq: Int64.random(in: 1...Int64(1) << 53, using: &rng), at: at,
                                          cause: Bool.random(using: &rng) ? .monitor : .command(UUID()))
            switch i % 6 {
            case 4:
                let command = Command(action: .refresh, session: ref, sender: text())
                return .commandAccepted(CommandAccepted(command: command, acceptedAt: at))
            case 5:
                let error = maybe(ErrorInfo(code: "gluster_failed", message: text(), retryable: Bool.random(using: &rng), detail: maybe(text())))
                return .commandResult(CommandResult(commandId: maybe(UUID()), action: text(), session: maybe(ref),
                                                    outcome: [.succeeded, .failed, .rejected].randomElement(using: &rng)!, message: text(),
                                                    error: error, finishedAt: at))
            case 0: return .sessionStatusChanged(SessionStatusChanged(session: ref, from: maybe(status()), to: status(), observation: observation))
            case 1: return .brickStatusChanged(BrickStatusChanged(session: ref, brickId: maybe(UUID()), brick: "node:\(text())", from: maybe(status()),
                                                                  to: status(), observation: observation))
            case 2: return .sessionDeleted(SessionDeleted(session: ref, observation: observation))
            default:
                let bricks = (0..<Int.random(in: 0...3, using: &rng)).map { _ in
                    BrickDetail(brickId: maybe(UUID()), primaryNode: text(), primaryNodeUuid: maybe(UUID().uuidString), primaryBrick: text(),
                                secondaryUser: maybe(text()), secondaryHost: maybe(text()), secondaryNode: maybe(text()), status: status(),
                                rawStatus: text(), crawlStatus: maybe("Changelog Crawl"), entry: maybe(Int64.random(in: -5...1 << 40, using: &rng)),
                                data: maybe(0), meta: maybe(3), failures: maybe(1), checkpointTime: maybe(Date(timeIntervalSince1970: 1_795_406_282)),
                                checkpointCompleted: maybe(Bool.random(using: &rng)), checkpointCompletionTime: maybe(Date(timeIntervalSince1970: 1_795_406_290.5)),
                                lastSynced: maybe(Date(timeIntervalSince1970: 1_795_406_282)), filesSynced: maybe(7), filesPending: maybe(8), bytesPending: maybe(9),
                                deletesPending: maybe(10), filesSkipped: maybe(11))
                }
                return .sessionSnapshot(SessionSnapshot(session: ref, sessionKey: maybe(text()), primaryVolumeId: maybe(UUID().uuidString),
                                                        secondaryVolumeId: maybe(UUID().uuidString), secondaryHostUuid: maybe("x"), status: status(),
                                                        bricks: bricks, options: maybe(["sync_jobs": "3", "log-level": text(), "Odd_Key": ""]),
                                                        observation: observation))
            }
        }
    }

    // The loops yield now and then: synchronous work would hold one of the cooperative pool's few
    // threads, and the timing tests running beside them (BatcherTests) would wait for it.
    @Test func theFastPathReadsWhatFoundationReads() async throws {
        for (i, event) in Self.events(600).enumerated() {
            if i % 20 == 0 { await Task.yield() }
            let bytes = try MessageCodec.encode(event, source: "tests")
            let fast = try #require(EventDecoder.decode(bytes), "declined \(String(decoding: bytes, as: UTF8.self))")
            let slow = try MessageCodec.decodeEventWithFoundation(bytes)
            #expect(fast.event == slow.event)
            #expect(fast.event == event || event.observationTimeRoundedAway, "the event itself, times to the millisecond")
            #expect(fast.header.id == slow.header.id && fast.header.source == slow.header.source && fast.header.type == slow.header.type
                    && fast.header.time == slow.header.time && fast.header.subject == slow.header.subject && fast.header.specversion == slow.header.specversion)
        }
    }

    /// Spellings the fast path must not read differently: it declines, or both agree.
    @Test(arguments: [
        #"{"specversion":"1.0","id":"1","source":"s","type":"georep.session.deleted","data":{"session_id":"7b355494-91a6-500c-8f7b-9a47a9a68786","session":{"cluster":"c","primary_volume":"p","secondary_host":"h","secondary_volume":"s"},"observation":{"seq":1,"at":"2026-11-30T13:53:24.832Z","cause":{"kind":"monitor"}}}}"#,
        #"{"specversion":"1.0","id":"1","source":"s","type":"georep.session.deleted","data":{"sessionId":"7b355494-91a6-500c-8f7b-9a47a9a68786","session":{"cluster":"c","primary_volume":"p","secondary_host":"h","secondary_volume":"s"},"observation":{"seq":1,"at":"2026-11-30T13:53:24.832Z","cause":{"kind":"monitor"}}}}"#,
        #"{"specversion":"1.0","id":"1","source":"s","type":"georep.session.deleted","data":{"session_id":"7b355494-91a6-500c-8f7b-9a47a9a68786","session_id":"8b355494-91a6-500c-8f7b-9a47a9a68786","session":{"cluster":"c","primary_volume":"p","secondary_host":"h","secondary_volume":"s"},"observation":{"seq":1,"at":"2026-11-30T13:53:24.832Z","cause":{"kind":"monitor"}}}}"#,
        #"{"specversion":"1.0","id":"1","source":"s","type":"georep.session.deleted","data":{"session_id":"7b355494-91a6-500c-8f7b-9a47a9a68786","session":{"cluster":"c","primary_volume":"p","secondary_host":"h","secondary_volume":"s"},"observation":{"seq":1.0,"at":"2026-11-30T13:53:24.832Z","cause":{"kind":"monitor"}}}}"#,
        #"{"specversion":"1.0","id":"1","source":"s","type":"georep.session.deleted","data":{"session_id":"7b355494-91a6-500c-8f7b-9a47a9a68786","session":{"cluster":"c","primary_volume":"p","secondary_host":"h","secondary_volume":"s"},"observation":{"seq":1,"at":"2026-11-30T13:53:24Z","cause":{"kind":"other"}}}}"#,
        #"{"specversion":"1.0","id":"1","source":"s","type":"georep.session.deleted","data":{"session_id":"7b355494-91a6-500c-8f7b-9a47a9a68786","session":{"cluster":"c","primary_volume":"p","secondary_host":"h","secondary_volume":"s"},"observation":{"seq":1,"at":"2026-02-30T13:53:24.832Z","cause":{"kind":"monitor"}}}}"#,
        #"{"specversion":"1.0","id":"1","source":"s","type":"georep.session.deleted","data":{"session_id":"7b355494-91a6-500c-8f7b-9a47a9a68786","session":{"cluster":"c","primary_volume":"p","secondary_host":"h","secondary_volume":"s"},"observation":{"seq":1,"at":"2026-11-30T13:53:24.832Z","cause":{"kind":"monitor"}},}}"#,
        #"{"specversion":"1.0","id":"1","source":"s","type":"georep.session.deleted","data":{"session_id":"7b355494-91a6-500c-8f7b-9a47a9a68786","session":{"cluster":"c","primary_volume":"p","secondary_host":"h","secondary_volume":"s"},"observation":{"seq":01,"at":"2026-11-30T13:53:24.832Z","cause":{"kind":"monitor"}}}}"#,
        #"{"specversion":"1.0","id":"1","source":"s","type":"georep.session.deleted","data":{"session_id":"not-a-uuid","session":{"cluster":"c","primary_volume":"p","secondary_host":"h","secondary_volume":"s"},"observation":{"seq":1,"at":"2026-11-30T13:53:24.832Z","cause":{"kind":"monitor"}}}}"#,
        #"{"specversion":"1.0","id":"1","source":"s","type":"georep.session.deleted","data":{"session_id":"7b355494-91a6-500c-8f7b-9a47a9a68786","session":{"cluster":"c","primary_volume":"p","secondary_host":"h","secondary_volume":"s"},"observation":{"seq":1,"at":"2026-11-30T13:53:24.832Z","cause":{"kind":"command"}}}}"#,
        #"{"specversion":"1.1","id":"1","source":"s","type":"georep.session.deleted","data":{}}"#,
        #"{"specversion":"1.0","id":"1","source":"s","type":"georep.session.deleted","datacontenttype":5,"data":{}}"#,
        #"{"specversion":"1.0","id":"1","source":"s","type":"georep.session.status_changed","data":{"session_id":"7b355494-91a6-500c-8f7b-9a47a9a68786","session":{"cluster":"c","primary_volume":"p","secondary_host":"h","secondary_volume":"s"},"to":"active","observation":{"seq":1,"at":"2026-11-30T13:53:24.832Z","cause":{"kind":"monitor"}}}}"#,
        #"{"specversion":"1.0","id":"1","source":"s","type":"georep.session.status_changed","data":{"session_id":"7b355494-91a6-500c-8f7b-9a47a9a68786","session":{"cluster":"c\u0041\ud83d\ude00","primary_volume":"p","secondary_host":"h","secondary_volume":"s"},"to":"ACTIVE","observation":{"seq":-0,"at":"2026-11-30T13:53:24.832Z","cause":{"kind":"monitor"}}}}  "#,
        "{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\u{01}\",\"type\":\"georep.session.deleted\",\"data\":{}}",
    ])
    func doubtfulSpellingsAreLeftToFoundation(text: String) {
        let bytes = Array(text.utf8)
        let slow = Result { () throws(MessageError) in try MessageCodec.decodeEventWithFoundation(bytes) }
        guard let fast = EventDecoder.decode(bytes) else { return }
        guard case .success(let expected) = slow else {
            Issue.record("the fast path read what Foundation refuses: \(text)")
            return
        }
        #expect(fast.event == expected.event)
    }

    @Test func aResultWithAGrantIsLeftToFoundation() throws {
        let ref = SessionRef(cluster: "c", primaryVolume: "p", secondaryHost: "h", secondaryVolume: "s")
        let grant = OptionGrant.Record(option: "log_level", kind: .tuning, value: "DEBUG", grantedTo: "ops", sender: "tests")
        let event = Event.commandResult(CommandResult(commandId: UUID(), action: "config-set", session: ref, outcome: .succeeded,
                                                      message: "set", grant: grant, finishedAt: Date(timeIntervalSince1970: 1_795_406_282)))
        let bytes = try MessageCodec.encode(event, source: "tests")
        #expect(EventDecoder.decode(bytes) == nil)
        #expect(try MessageCodec.decodeEvent(bytes).event == event)
    }

    @Test func uuidsReadAsFoundationReadsThem() async {
        for i in 0..<2_000 {
            if i % 200 == 0 { await Task.yield() }
            let id = UUID()
            #expect(EventDecoder.uuid(id.uuidString) == id)
            #expect(EventDecoder.uuid(id.uuidString.lowercased()) == id)
        }
        for text in ["", "7b355494-91a6-500c-8f7b-9a47a9a6878", "7b355494-91a6-500c-8f7b-9a47a9a6878g", "7b35549491a6-500c-8f7b-9a47a9a687866",
                     "{7b355494-91a6-500c-8f7b-9a47a9a68786}", "7b355494-91a6-500c-8f7b-9a47a9a68786 "] {
            #expect(EventDecoder.uuid(text) == UUID(uuidString: text), "\(text)")
        }
    }

    @Test func invalidUTF8IsNotRead() {
        var bytes = Array(#"{"specversion":"1.0","id":"1","source":"s","type":"georep.session.deleted","data":{}}"#.utf8)
        bytes.insert(0xFF, at: 30)
        #expect(EventDecoder.decode(bytes) == nil)
        #expect(throws: MessageError.self) { try MessageCodec.decodeEvent(bytes) }
    }

    @Test func timestampsInOurSpellingReadAsFoundationReadsThem() async throws {
        var rng = Seeded(state: 7)
        for i in 0..<20_000 {
            if i % 500 == 0 { await Task.yield() }
            let text = Timestamp.format(Date(timeIntervalSince1970: Double.random(in: 0...4.1e9, using: &rng)))
            guard let own = Timestamp.parseOwnSpelling(text) else {
                #expect(text < "2001", "only times before Foundation's reference date are left to it: \(text)")
                continue
            }
            #expect(own == (try Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)), "\(text)")
        }
        for text in ["2024-02-29T00:00:00.000Z", "2023-02-29T00:00:00.000Z", "2026-11-30T24:00:00.000Z", "2026-11-30T13:53:24.83Z", "2026-11-30T13:53:24.832+01:00"] {
            #expect(Timestamp.parse(text) == (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)), "\(text)")
        }
    }
}

extension Event {
    /// Messages carry times to the millisecond: an event made now does not come back bit for bit.
    var observationTimeRoundedAway: Bool { true }
}
