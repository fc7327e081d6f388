import Foundation
import GeoRepCore
import Testing

/// Every id on the wire is a lower-case UUID, as PostgreSQL prints it and the API serves it, so
/// that a consumer joins an event to a row without folding case.
@Suite struct OneSpellingTests {
    let ref = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: "vm", secondaryVolume: "svol")
    let command = UUID(uuidString: "FA8A1487-0000-4000-8000-0000000000AB")!

    /// Every UUID-shaped string anywhere in `json`.
    func uuids(_ json: Any) -> [String] {
        switch json {
        case let object as [String: Any]: object.values.flatMap(uuids)
        case let array as [Any]: array.flatMap(uuids)
        case let text as String: UUID(uuidString: text) != nil ? [text] : []
        default: []
        }
    }

    func data(_ event: Event) throws -> [String: Any] {
        let bytes = try MessageCodec.encode(event, id: UUID(), source: "test")
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func theLowerCaseSpellingIsFoundationsLowerCased() {
        for _ in 0..<2_000 {
            let id = UUID()
            #expect(id.lowercasedString == id.uuidString.lowercased())
        }
        #expect(command.lowercasedString == "fa8a1487-0000-4000-8000-0000000000ab")
    }

    @Test func eventsCarryLowerCaseIds() throws {
        let observation = Observation(seq: 1, at: Date(), cause: .command(command))
        let brick = StableID.brick(volumeID: "0E4A7D7E-2D0D-4F3A-9A51-111111111111", host: "n1", path: "/b")
        let events: [Event] = [
            .sessionStatusChanged(SessionStatusChanged(session: ref, from: .initializing, to: .active, observation: observation)),
            .brickStatusChanged(BrickStatusChanged(session: ref, brickId: brick, brick: "n1:/b", from: nil, to: .active, observation: observation)),
            .sessionSnapshot(SessionSnapshot(session: ref, sessionKey: nil, primaryVolumeId: nil, secondaryVolumeId: nil, status: .active,
                                             bricks: [BrickDetail(brickId: brick, primaryNode: "n1", primaryBrick: "/b", status: .active, rawStatus: "Active")],
                                             options: nil, observation: observation)),
            .commandResult(CommandResult(commandId: command, action: "start", session: ref, outcome: .succeeded, message: "ok")),
            .clusterInventory(ClusterInventory(cluster: "lab", volumes: [], sessionIds: [ref.sessionID], observation: observation)),
            .sessionDeleted(SessionDeleted(session: ref, observation: observation)),
        ]
        for event in events {
            let json = try data(event)
            let ids = uuids(json)
            #expect(!ids.isEmpty, "\(event.type) carries no id")
            for id in ids { #expect(id == id.lowercased(), "\(event.type): \(id)") }
        }
        let change = try #require(try data(events[1])["data"] as? [String: Any])
        #expect(change["session_id"] as? String == ref.sessionID.uuidString.lowercased())
        #expect(change["brick_id"] as? String == brick.uuidString.lowercased())
        #expect((change["observation"] as? [String: Any]).flatMap { ($0["cause"] as? [String: Any])?["command_id"] as? String }
                == "fa8a1487-0000-4000-8000-0000000000ab")
    }

    @Test func commandsCarryLowerCaseIds() throws {
        let bytes = try MessageCodec.encode(Command(commandId: command, action: .start, session: ref, sender: "test"), source: "test")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(json["id"] as? String == "fa8a1487-0000-4000-8000-0000000000ab")
        #expect((json["data"] as? [String: Any])?["command_id"] as? String == "fa8a1487-0000-4000-8000-0000000000ab")
    }

    @Test func upperCaseIdsFromOtherSendersStillDecode() throws {
        let bytes = try MessageCodec.encode(.commandResult(CommandResult(commandId: command, action: "start", session: ref, outcome: .succeeded,
                                                                          message: "ok")), source: "test")
        let upper = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "fa8a1487-0000-4000-8000-0000000000ab",
                                                                                with: "FA8A1487-0000-4000-8000-0000000000AB")
        guard case .commandResult(let result) = try MessageCodec.decodeEvent(Array(upper.utf8)).event else {
            Issue.record("not a result")
            return
        }
        #expect(result.commandId == command)
    }
}
