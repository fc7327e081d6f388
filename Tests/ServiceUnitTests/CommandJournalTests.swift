import Foundation
import GeoRepCore
@testable import Worker
import Testing

/// The journal answers a command seen before with its first result, forgets the oldest first,
/// and tells when a marker has been read back.
@Suite struct CommandJournalTests {
    let ref = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: "vm", secondaryVolume: "svol")

    func result(_ id: UUID, _ outcome: CommandResult.Outcome) -> CommandResult {
        CommandResult(commandId: id, action: "start", session: ref, outcome: outcome, message: outcome.rawValue)
    }

    @Test func theFirstResultStands() async {
        let journal = CommandJournal()
        let id = UUID()
        await journal.record(result(id, .succeeded))
        await journal.record(result(id, .failed))
        #expect(await journal.result(of: id)?.outcome == .succeeded)
        #expect(await journal.result(of: UUID()) == nil)
        await journal.record(CommandResult(commandId: nil, action: "x", session: nil, outcome: .rejected, message: "no id"))
        #expect(await journal.count == 1)
    }

    @Test func theOldestAreForgottenFirst() async {
        let journal = CommandJournal(capacity: 3)
        let ids = (0..<5).map { _ in UUID() }
        for id in ids { await journal.record(result(id, .succeeded)) }
        #expect(await journal.count == 3)
        #expect(await journal.result(of: ids[0]) == nil)
        #expect(await journal.result(of: ids[1]) == nil)
        #expect(await journal.result(of: ids[4]) != nil)
    }

    @Test func markersSeenBeforeAfterOrNever() async {
        let journal = CommandJournal()
        let early = UUID()
        await journal.markerSeen(early)
        #expect(await journal.waitForMarker(early, timeout: .seconds(1)))
        let late = UUID()
        Task {
            try await Task.sleep(for: .milliseconds(50))
            await journal.markerSeen(late)
        }
        #expect(await journal.waitForMarker(late, timeout: .seconds(5)))
        let started = ContinuousClock.now
        #expect(await !journal.waitForMarker(UUID(), timeout: .milliseconds(100)))
        #expect(ContinuousClock.now - started < .seconds(2))
    }
}
