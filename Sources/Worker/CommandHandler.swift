import AMQP
import Foundation
import GeoRepCore
import Gluster
import Logging

/// Takes one command delivery from decoding to the result event.
///
/// Malformed or invalid commands never reach gluster: they get a `command.rejected` event and
/// go to the dead-letter queue with the reason. Valid ones run, are read back from gluster, and
/// produce their state events and then exactly one result event. The delivery is acked last,
/// so a worker that dies half-way leaves the command to be redelivered.
struct CommandHandler: Sendable {
    let gluster: GlusterExecutor
    let reader: SessionReader
    /// Tries of a command whose failure is transient (lock held, host unreachable, timeout).
    let maxAttempts: Int
    let logger: Logger

    func handle(_ delivery: Delivery, queue: String, consumer: AMQPConnection, bus: GeoRepBus) async throws {
        let command: Command
        do {
            command = try MessageCodec.decodeCommand(delivery.body)
        } catch {
            let salvaged = MessageCodec.salvageCommand(delivery.body)
            logger.warning("rejecting a command", metadata: [
                "command_id": "\(salvaged.commandId?.uuidString.lowercased() ?? "-")", "code": "\(error.code)", "reason": "\(error)",
            ])
            let result = CommandResult(commandId: salvaged.commandId, action: salvaged.action, session: salvaged.session,
                                       outcome: .rejected, message: error.description, error: error.errorInfo)
            try await bus.publish(.commandResult(result), correlationId: delivery.properties.correlationId, replyTo: delivery.properties.replyTo)
            try await bus.deadLetter(delivery, from: queue, code: error.code, reason: error.description)
            try await consumer.ack(delivery)
            return
        }

        var log = logger
        log[metadataKey: "command_id"] = "\(command.commandId.uuidString.lowercased())"
        log[metadataKey: "session"] = "\(command.session.key)"
        log[metadataKey: "action"] = "\(command.action.rawValue)"
        log.info("command received")

        let result: CommandResult
        if gluster.inventory.cluster(command.session.cluster) == nil {
            let error = GlusterError.unknownCluster(command.session.cluster)
            result = CommandResult(commandId: command.commandId, action: command.action.rawValue, session: command.session,
                                   outcome: .rejected, message: error.description, error: error.errorInfo)
            try await bus.publish(.commandResult(result), correlationId: command.commandId.uuidString.lowercased(),
                                  replyTo: delivery.properties.replyTo)
            try await bus.deadLetter(delivery, from: queue, code: error.code, reason: error.description)
            try await consumer.ack(delivery)
            log.warning("command rejected", metadata: ["reason": "\(error)"])
            return
        }

        do {
            let message = try await execute(command)
            result = CommandResult(commandId: command.commandId, action: command.action.rawValue, session: command.session,
                                   outcome: .succeeded, message: message)
        } catch {
            let attempt = (delivery.properties.intHeader("x-georep-attempt") ?? 0) + 1
            if error.retryable && attempt < maxAttempts {
                // Later, on the same shard; no result yet: the command is still under way.
                try await bus.retryLater(delivery, sessionKey: command.session.key, attempt: attempt)
                try await consumer.ack(delivery)
                log.warning("transient failure; retrying later", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
                return
            }
            result = CommandResult(commandId: command.commandId, action: command.action.rawValue, session: command.session,
                                   outcome: .failed, message: error.description, error: error.errorInfo)
        }

        let cause = Observation.Cause.command(command.commandId)
        let events = command.action == .discover
            ? await reader.observeCluster(command.session.cluster, forceSnapshot: true)
            : await reader.observe(command.session, cause: cause)
        for event in events { try await bus.publish(event) }
        try await bus.publish(.commandResult(result), correlationId: command.commandId.uuidString.lowercased(),
                              replyTo: delivery.properties.replyTo)
        try await consumer.ack(delivery)
        log.info("command done", metadata: ["outcome": "\(result.outcome.rawValue)", "message": "\(result.message)"])
    }

    /// Runs the command's gluster operation. Answers that say the wanted state already holds
    /// count as success, so re-sent commands are harmless.
    func execute(_ command: Command) async throws(GlusterError) -> String {
        let ref = command.session
        let o = command.options
        let cluster = ref.cluster
        func args(_ build: () throws(ValidationError) -> [String]) throws(GlusterError) -> [String] {
            do { return try build() } catch { throw .invalidInput(error) }
        }
        switch command.action {
        case .create:
            return try await gluster.action(cluster: cluster, args { () throws(ValidationError) in try GlusterArguments.create(ref, options: o) })
                .ifEmpty("session created")
        case .start, .stop, .pause, .resume:
            let verb = command.action.rawValue
            do throws(GlusterError) {
                let message = try await gluster.action(cluster: cluster, args { () throws(ValidationError) in
                    try GlusterArguments.lifecycle(verb, ref, force: o.force ?? false)
                })
                if let notRunning = GlusterError.notRunning(after: verb, message: message) { throw notRunning }
                return message.ifEmpty("session \(verb == "stop" ? "stopped" : verb == "pause" ? "paused" : verb + "ed")")
            } catch .alreadyStarted(let m) where command.action == .start {
                return "already started: \(m)"
            } catch .alreadyStopped(let m) where command.action == .stop {
                return "already stopped: \(m)"
            } catch .alreadyPaused(let m) where command.action == .pause {
                return "already paused: \(m)"
            }
        case .delete:
            if o.stopFirst == true {
                // A stop that fails (already stopped, or no such session: gluster then says only
                // "Commit failed") is not the answer; the delete below says what holds.
                do {
                    try await gluster.action(cluster: cluster, args { () throws(ValidationError) in
                        try GlusterArguments.lifecycle("stop", ref, force: true)
                    })
                } catch .invalidInput(let error) {
                    throw .invalidInput(error)
                } catch {
                    logger.debug("stop before delete did not apply", metadata: ["session": "\(ref)", "error": "\(error)"])
                }
            }
            do {
                return try await gluster.action(cluster: cluster, args { () throws(ValidationError) in
                    try GlusterArguments.delete(ref, resetSyncTime: o.resetSyncTime ?? false)
                }).ifEmpty("session deleted")
            } catch .sessionNotFound(let m) {
                return "already deleted: \(m)"
            }
        case .configSet:
            return try await gluster.action(cluster: cluster, args { () throws(ValidationError) in
                try GlusterArguments.configSet(ref, key: o.key ?? "", value: o.value ?? "")
            }).ifEmpty("option set")
        case .configReset:
            return try await gluster.action(cluster: cluster, args { () throws(ValidationError) in
                try GlusterArguments.configReset(ref, key: o.key ?? "")
            }).ifEmpty("option reset")
        case .checkpoint:
            return try await gluster.action(cluster: cluster, args { () throws(ValidationError) in
                try GlusterArguments.checkpoint(ref, at: o.checkpoint)
            }).ifEmpty("checkpoint set")
        case .refresh:
            return "refreshed"
        case .discover:
            return "discovered"
        }
    }
}

extension String {
    func ifEmpty(_ fallback: String) -> String { isEmpty ? fallback : self }
}
