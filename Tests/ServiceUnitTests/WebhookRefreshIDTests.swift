import Foundation
import GeoRepCore
@testable import Worker
import Testing

/// glustereventsd posts one event to every registered worker: the copies must make one refresh
/// command (one id), while another node's event, or the same node's next retry, makes another.
@Suite struct WebhookRefreshIDTests {
    /// A GEOREP_FAULTY request as glustereventsd 10.3 sent it (../shared/gluster-10.3/eventsapi-webhook.jsonl).
    let faulty = #"{"event": "GEOREP_FAULTY", "message": {"brick_path": "/bricks/rvol", "current_secondary_host": "root@s1", "primary_node": "p1", "primary_node_id": "0f51a2c1-d8b5-4472-abea-aaf517f7cba9", "primary_volume": "rvol", "secondary_host": "root@s1", "secondary_volume": "srvol"}, "nodeid": "0F51A2C1-d8b5-4472-abea-aaf517f7cba9", "ts": 1795489975}"#

    func id(_ json: String, cluster: String = "pool") throws -> UUID? {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        return WebhookReceiver.refreshID(event: object["event"] as? String ?? "", message: object["message"] as? [String: Any] ?? [:],
                                         nodeID: object["nodeid"] as? String, timestamp: (object["ts"] as? NSNumber)?.int64Value,
                                         cluster: cluster)
    }

    @Test func copiesOfOneEventMakeOneIDWhateverTheirKeyOrder() throws {
        let first = try #require(try id(faulty))
        // Same event, keys in another order and the node id in lower case.
        let reordered = #"{"ts": 1795489975, "nodeid": "0f51a2c1-d8b5-4472-abea-aaf517f7cba9", "message": {"secondary_volume": "srvol", "secondary_host": "root@s1", "primary_volume": "rvol", "primary_node_id": "0f51a2c1-d8b5-4472-abea-aaf517f7cba9", "primary_node": "p1", "current_secondary_host": "root@s1", "brick_path": "/bricks/rvol"}, "event": "GEOREP_FAULTY"}"#
        #expect(try id(reordered) == first)
    }

    @Test func anotherNodeTimeBrickOrClusterMakesAnotherID() throws {
        let first = try #require(try id(faulty))
        #expect(try id(faulty.replacingOccurrences(of: "\"nodeid\": \"0F51A2C1", with: "\"nodeid\": \"1F51A2C1")) != first)
        #expect(try id(faulty.replacingOccurrences(of: "1795489975", with: "1795489976")) != first)
        #expect(try id(faulty.replacingOccurrences(of: "/bricks/rvol", with: "/bricks/dvol")) != first)
        #expect(try id(faulty.replacingOccurrences(of: "GEOREP_FAULTY", with: "GEOREP_STOP")) != first)
        #expect(try id(faulty, cluster: "lab") != first)
    }

    @Test func anEventWithoutNodeOrTimeHasNoID() throws {
        #expect(try id(#"{"event": "GEOREP_PAUSE", "message": {"primary": "mvol", "secondary": "vm::svol"}, "ts": 1795489965}"#) == nil)
        #expect(try id(#"{"event": "GEOREP_PAUSE", "message": {"primary": "mvol", "secondary": "vm::svol"}, "nodeid": "393c6cc4-5ae9-4513-90dd-5baaf1abb759"}"#) == nil)
    }
}
