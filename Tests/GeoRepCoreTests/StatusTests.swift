import GeoRepCore
import Testing

@Suite struct StatusTests {
    @Test(arguments: [
        ("Initializing...", GeoRepStatus.initializing), ("INITIALIZING", .initializing), ("Created", .notStarted),
        ("active", .active), ("ACTIVE", .active), ("Passive", .passive), ("Stopped", .stopped), ("paused", .paused),
        ("Faulty", .faulty), ("fAuLtY", .faulty), ("N/A", .unknown), ("", .unknown), ("Offline", .unknown),
    ])
    func mapsGlusterBrickStatus(raw: String, expected: GeoRepStatus) {
        #expect(GeoRepStatus(glusterBrickStatus: raw) == expected)
    }

    @Test func sessionRuleCoversEveryCase() {
        func rule(_ s: [GeoRepStatus], reachable: Bool = true) -> GeoRepStatus {
            SessionStatusRule.sessionStatus(brickStatuses: s, hostReachable: reachable)
        }
        #expect(rule([]) == .unknown)
        #expect(rule([.active, .active], reachable: false) == .unknown)
        #expect(rule([.faulty, .faulty]) == .faulty)
        #expect(rule([.faulty, .active]) == .partialFaulty)
        #expect(rule([.initializing, .active]) == .initializing)
        #expect(rule([.active, .passive]) == .active)
        #expect(rule([.active, .active]) == .active)
        #expect(rule([.passive, .passive]) == .passive)
        #expect(rule([.paused, .paused]) == .paused)
        #expect(rule([.stopped, .stopped]) == .stopped)
        #expect(rule([.notStarted, .notStarted]) == .notStarted)
        #expect(rule([.active, .stopped]) == .partialFaulty)
        #expect(rule([.paused, .stopped]) == .unknown)
    }
}
