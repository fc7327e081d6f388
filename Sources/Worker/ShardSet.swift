import AMQP
import Foundation
import GeoRepCore
import Logging
import Observability
import Synchronization

/// The command shards this worker consumes: one lane (a serial task) per shard, so that one
/// session's commands run in order while different shards run side by side.
///
/// Giving a shard up is a handover, not a drop: the lane puts a ``HandoverMarker`` at the end of
/// the shard's queue, handles every command ahead of it, and cancels its consumer while still
/// holding the marker unsettled (prefetch 1), so the next owner's first command is the one after
/// the marker and nothing runs twice or out of order.
actor ShardSet {
    typealias Process = @Sendable (Delivery) async throws -> Void

    private let consumer: AMQPConnection
    private let bus: GeoRepBus
    private let instance: String
    private let process: Process
    private let logger: Logger
    private var lanes: [Int: Lane] = [:]
    private var releasing: Set<Int> = []
    private let failureStream: AsyncStream<Error>
    private let failures: AsyncStream<Error>.Continuation
    /// How long a handover waits for its marker before it cancels anyway (when this worker was
    /// only a standby consumer, the marker goes to the active one instead).
    let handoverTimeout: Duration

    init(consumer: AMQPConnection, bus: GeoRepBus, instance: String, handoverTimeout: Duration = .seconds(15),
         logger: Logger, process: @escaping Process) {
        self.consumer = consumer
        self.bus = bus
        self.instance = instance
        self.process = process
        self.logger = logger
        self.handoverTimeout = handoverTimeout
        (failureStream, failures) = AsyncStream<Error>.makeStream()
    }

    /// The shards consumed now (not counting those being handed over).
    var held: Set<Int> { Set(lanes.keys).subtracting(releasing) }

    /// Throws the first error a lane met (a lost connection): the round is over.
    func firstFailure() async throws {
        for await error in failureStream { throw error }
    }

    /// Starts consuming the shards in `desired` that are not consumed yet and hands over the
    /// ones that are no longer wanted.
    func reconcile(desired: Set<Int>) async throws {
        for shard in desired.sorted() where releasing.contains(shard) {
            // Wanted again before its marker came back: the worker it was going to (or the
            // worker that held it while this one was a standby) is gone. Keep it: the marker,
            // when it comes, is acked as an earlier one. (A standby lane that became active
            // again would otherwise wait for a marker another worker already took, for as long
            // as monitor ticks keep the shard busy.)
            releasing.remove(shard)
            lanes[shard]?.send(.keep)
            logger.info("keeping a shard after all", metadata: ["shard": "\(shard)"])
        }
        for shard in desired.sorted() where lanes[shard] == nil {
            let queue = bus.topology.shardQueues[shard]
            let lane = Lane(shard: shard, queue: queue)
            lanes[shard] = lane
            lane.start(self)
            try await consumer.addConsumer(queue: queue, prefetch: 1)
            logger.info("consuming a shard", metadata: ["shard": "\(shard)", "queue": "\(queue)"])
        }
        for (shard, lane) in lanes where !desired.contains(shard) && !releasing.contains(shard) {
            releasing.insert(shard)
            lane.send(.release)
            logger.info("handing a shard over", metadata: ["shard": "\(shard)"])
        }
    }

    /// Passes a delivery to its shard's lane.
    func route(_ delivery: Delivery) async {
        guard let shard = bus.topology.shardQueues.firstIndex(of: delivery.consumerTag), let lane = lanes[shard] else {
            // A delivery for a consumer already cancelled: never looked at, so it goes back in place.
            await putBack(delivery)
            return
        }
        lane.send(.delivery(delivery))
    }

    /// Returns a delivery nobody looked at to its queue. If the connection is gone the broker
    /// requeues it anyway; either way nothing is lost, but say so.
    private nonisolated func putBack(_ delivery: Delivery) async {
        do { try await consumer.reject(delivery, requeue: true) } catch {
            logger.info("could not put a delivery back; the broker requeues it when the connection closes",
                        metadata: ["queue": "\(delivery.queue)", "error": "\(error)"])
            GeoRepMetrics.dropped(reason: "requeue_failed", role: "worker")
        }
    }

    /// Lets every lane finish what it holds, then stops them.
    func drain() async {
        for lane in lanes.values { lane.finish() }
        for lane in lanes.values { await lane.done() }
        lanes.removeAll()
    }

    /// Stops every lane at once (the connection is gone; unsettled commands are redelivered).
    func stop() async {
        for lane in lanes.values { lane.cancel() }
        for lane in lanes.values { await lane.done() }
        lanes.removeAll()
    }

    fileprivate func laneEnded(_ shard: Int) {
        lanes.removeValue(forKey: shard)
        releasing.remove(shard)
        logger.info("handed a shard over", metadata: ["shard": "\(shard)"])
    }

    fileprivate func laneFailed(_ error: Error) { failures.yield(error) }

    /// One shard's serial loop.
    fileprivate nonisolated func runLane(_ lane: Lane, inputs: AsyncStream<Lane.Input>) async {
        var handover: UUID?
        // Deliveries handled since the handover timer was last armed: while they come, this
        // worker is the shard's active consumer and its marker will come too, however long the
        // queue ahead of it; only a silent lane (a standby) gives up waiting.
        var handledSinceArmed = 0
        func arm() {
            handledSinceArmed = 0
            let timeout = handoverTimeout
            Task {
                // A timer: a cancelled sleep only sends the timeout early, which the lane's
                // state decides on (a stale timeout changes nothing).
                try? await Task.sleep(for: timeout)
                lane.send(.handoverTimeout)
            }
        }
        var iterator = inputs.makeAsyncIterator()
        do {
            while let input = await iterator.next() {
                switch input {
                case .delivery(let delivery):
                    if delivery.properties.type == HandoverMarker.type {
                        let marker: HandoverMarker?
                        do { marker = try GeoRepBus.decode(HandoverMarker.self, from: delivery) } catch {
                            logger.warning("acking an unreadable handover marker", metadata: ["error": "\(error)"])
                            GeoRepMetrics.dropped(reason: "unreadable_handover_marker", role: "worker")
                            marker = nil
                        }
                        if let handover, marker?.nonce == handover {
                            // Cancel while the marker is still unsettled (prefetch 1): nothing
                            // after it can reach this worker, so the next owner starts there.
                            try await consumer.cancelConsumer(tag: lane.queue)
                            try await consumer.ack(delivery)
                            await end(lane, &iterator)
                            return
                        }
                        try await consumer.ack(delivery)  // an earlier or another worker's marker
                        continue
                    }
                    handledSinceArmed += 1
                    try await process(delivery)
                case .release:
                    guard handover == nil else { continue }
                    let marker = HandoverMarker(instance: instance)
                    handover = marker.nonce
                    try await bus.putHandoverMarker(marker, on: lane.queue)
                    arm()
                case .keep:
                    handover = nil
                case .handoverTimeout:
                    guard handover != nil else { continue }
                    if handledSinceArmed > 0 {
                        arm()
                        continue
                    }
                    try await consumer.cancelConsumer(tag: lane.queue)
                    await end(lane, &iterator)
                    return
                }
            }
        } catch {
            await laneFailed(error)
        }
    }

    /// Ends a lane: a delivery that reached it after all was never looked at, so it goes back to
    /// its queue instead of staying unsettled with this worker.
    private nonisolated func end(_ lane: Lane, _ iterator: inout AsyncStream<Lane.Input>.Iterator) async {
        lane.finish()
        while let input = await iterator.next() {
            if case .delivery(let delivery) = input { await putBack(delivery) }
        }
        await laneEnded(lane.shard)
    }
}

/// One shard's inbox and the task that works through it.
final class Lane: Sendable {
    enum Input: Sendable {
        case delivery(Delivery)
        case release
        /// The shard is wanted again while its handover is under way: stay its owner.
        case keep
        case handoverTimeout
    }

    let shard: Int
    let queue: String
    private let inputs: AsyncStream<Input>
    private let continuation: AsyncStream<Input>.Continuation
    private let task = TaskBox()

    init(shard: Int, queue: String) {
        self.shard = shard
        self.queue = queue
        (inputs, continuation) = AsyncStream<Input>.makeStream()
    }

    func start(_ set: ShardSet) {
        let inputs = self.inputs
        task.set(Task { await set.runLane(self, inputs: inputs) })
    }

    func send(_ input: Input) { continuation.yield(input) }
    func finish() { continuation.finish() }
    func cancel() { task.get()?.cancel() }
    func done() async { await task.get()?.value }
}

/// A task handle settable once after init.
final class TaskBox: Sendable {
    private let task = Mutex<Task<Void, Never>?>(nil)
    func set(_ t: Task<Void, Never>) { task.withLock { $0 = t } }
    func get() -> Task<Void, Never>? { task.withLock { $0 } }
}
