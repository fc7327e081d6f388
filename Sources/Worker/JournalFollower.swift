import AMQP
import Foundation
import GeoRepCore
import Logging
import ServiceLifecycle

/// Reads the journal stream from its beginning (it keeps `journalMaxAge`) and then follows it:
/// command results go to the ``CommandJournal``, status changes to the ``SessionTracker``.
/// It has a connection of its own and reconnects on its own, resuming after the last offset read.
struct JournalFollower: Sendable {
    let configuration: AMQPConfiguration
    let topology: GeoRepTopology
    let journal: CommandJournal
    let tracker: SessionTracker
    let name: String
    let logger: Logger

    func run() async {
        var backoff = Backoff()
        var nextOffset: Int? = nil
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let connection = AMQPConnection(configuration: configuration, name: "\(name) journal", logger: logger)
            do {
                try await connection.open()
                try await connection.declare(topology.declarations)
                let stream = try await connection.deliveries()
                let offset: AMQPValue = nextOffset.map { .int($0) } ?? .string("first")
                try await connection.addConsumer(queue: topology.journalQueue, prefetch: 1000, tag: "journal",
                                                 arguments: [("x-stream-offset", offset)])
                backoff.reset()
                var unacked = 0
                for try await delivery in stream.cancelOnGracefulShutdown() {
                    await take(delivery)
                    if let offset = delivery.properties.intHeader("x-stream-offset") { nextOffset = offset + 1 }
                    unacked += 1
                    // Streams need acks only for flow control: settle in bulk.
                    if unacked >= 200 {
                        try await connection.ackAll(upTo: delivery)
                        unacked = 0
                    }
                }
            } catch {
                if !Task.isCancelled { logger.warning("journal reader interrupted; reconnecting", metadata: ["error": "\(error)"]) }
            }
            await connection.close()
            try? await Task.sleep(for: .seconds(backoff.next()))
        }
    }

    private func take(_ delivery: Delivery) async {
        if delivery.properties.type == JournalMarker.type {
            if let marker = try? MessageCodec.decoder().decode(JournalMarker.self, from: Data(delivery.body)) {
                await journal.markerSeen(marker.nonce)
            }
            return
        }
        guard let (_, event) = try? MessageCodec.decodeEvent(delivery.body) else { return }
        if case .commandResult(let result) = event {
            await journal.record(result)
        } else {
            await tracker.learn(event)
        }
    }
}
