@testable import Gluster
import Testing

/// A host that did not answer is asked last for a while, then first again; answering puts it
/// back at once; clusters do not mix.
@Suite struct HostOrderTests {
    let hosts = ["p1", "p2", "p3"]

    @Test func aSilentHostGoesLastUntilItsTimeIsUp() {
        let order = HostOrder(demoteFor: .seconds(60))
        let start = ContinuousClock.now
        #expect(order.order("pool", hosts, name: { $0 }, now: start) == ["p1", "p2", "p3"])
        order.markUnanswered("pool", host: "p1", now: start)
        #expect(order.order("pool", hosts, name: { $0 }, now: start + .seconds(1)) == ["p2", "p3", "p1"])
        #expect(order.order("pool", hosts, name: { $0 }, now: start + .seconds(59)) == ["p2", "p3", "p1"])
        #expect(order.demoted("pool", now: start + .seconds(59)) == ["p1"])
        #expect(order.order("pool", hosts, name: { $0 }, now: start + .seconds(61)) == ["p1", "p2", "p3"])
        #expect(order.demoted("pool", now: start + .seconds(61)).isEmpty)
    }

    @Test func answeringTakesTheInventoryPlaceBackAndClustersAreApart() {
        let order = HostOrder(demoteFor: .seconds(60))
        let now = ContinuousClock.now
        order.markUnanswered("pool", host: "p1", now: now)
        order.markUnanswered("pool", host: "p2", now: now)
        #expect(order.order("pool", hosts, name: { $0 }, now: now) == ["p3", "p1", "p2"])
        #expect(order.order("lab", hosts, name: { $0 }, now: now) == ["p1", "p2", "p3"])
        order.markAnswered("pool", host: "p1")
        #expect(order.order("pool", hosts, name: { $0 }, now: now) == ["p1", "p3", "p2"])
    }

    @Test func onlyAHostThatDidNotAnswerIsDemoted() {
        #expect(GlusterError.timeout(host: "p1", seconds: 120).hostDidNotAnswer)
        #expect(GlusterError.hostUnreachable(host: "p1", message: "No route to host").hostDidNotAnswer)
        #expect(!GlusterError.transactionInProgress(message: "Another transaction is in progress").hostDidNotAnswer)
        #expect(!GlusterError.unknownCluster("pool").hostDidNotAnswer)
    }
}
