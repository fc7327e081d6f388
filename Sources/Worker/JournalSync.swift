import AMQP
import Foundation
import GeoRepCore
import Logging

/// Brings this worker's view of the journal up to now: writes a marker at the stream's end and
/// waits to read it back, so that everything any worker published before is known (a result of
/// a command that may have run, a checkpoint already announced, a wait already answered).
struct JournalSync: Sendable {
    let journal: CommandJournal
    let instance: String
    let timeout: Duration

    /// False when the journal could not be brought up to now (the caller decides what is safe then).
    func catchUp(bus: GeoRepBus, log: Logger) async -> Bool {
        let marker = JournalMarker(instance: instance)
        do {
            try await bus.putJournalMarker(marker)
        } catch {
            log.warning("cannot write a journal marker", metadata: ["error": "\(error)"])
            return false
        }
        if await !journal.waitForMarker(marker.nonce, timeout: timeout) {
            log.warning("the journal did not catch up in time")
            return false
        }
        return true
    }
}
