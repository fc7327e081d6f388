import AMQP
import Foundation
import GeoRepCore
import Gluster
import Logging
import Observability

/// Takes one command delivery from decoding to the result event.
///
/// - Malformed or invalid commands, and commands naming what does not exist (an unknown cluster,
///   a missing volume), never reach gluster's write path: they get a `command.rejected` event and
///   go to the dead-letter queue with the reason.
/// - A command seen before (same id) is answered from the journal, not applied again.
/// - A change of an option gsyncd runs or keeps its state by needs the admin grant
///   (``OptionGrant``): from a publisher `adminPublishers` does not list it is rejected and
///   dead-lettered like bad input; a granted one is logged at notice level and its result says who.
/// - The session's current state decides whether the action may run (``CommandPolicy``); a
///   refusal is a `command.rejected` event (a conflict, not bad input: no dead-lettering).
/// - Whatever happened, the session is read back, its state events are published, then exactly
///   one result event; the delivery is acked last, so a worker that dies half-way leaves the
///   command to be redelivered, and the journal and the policy keep that redelivery harmless.
struct CommandHandler: Sendable {
    let gluster: GlusterExecutor
    let reader: SessionReader
    let journal: CommandJournal
    /// `checkpoint` commands with `wait` whose result is owed (``CommandWaiting``).
    let waits: PendingWaits
    /// After a checkpoint is set: every brick records a change (``CheckpointTouch``).
    let touch: CheckpointTouch
    /// Tries of a command whose failure is transient (lock held, host unreachable, timeout).
    let maxAttempts: Int
    /// How long a redelivered command waits for the journal to catch up before trusting the policy alone.
    let journalSyncTimeout: Duration
    let instance: String
    /// AMQP users whose commands may change executing, path and access options (`GEOREP_AMQP_ADMIN_USERS`).
    var adminPublishers: Set<String> = []
    let logger: Logger

    func handle(_ delivery: Delivery, consumer: AMQPConnection, bus: GeoRepBus) async throws {
        let timing = CommandTiming()
        try await CommandTiming.$current.withValue(timing) {
            try await handleTimed(delivery, consumer: consumer, bus: bus)
        }
        let f = timing.figures
        GeoRepMetrics.commandOverhead(seconds: max(0, f.elapsed - f.gluster))
    }

    func handleTimed(_ delivery: Delivery, consumer: AMQPConnection, bus: GeoRepBus) async throws {
        let queue = delivery.queue
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
            GeoRepMetrics.command(action: salvaged.action.count <= 16 ? salvaged.action : "unknown", outcome: "rejected")
            GeoRepMetrics.deadLettered(code: error.code, role: "worker")
            return
        }

        let expected = CommandRouting.routingKey(for: command.session)
        if delivery.routingKey != expected {
            // Sent with another key (a sender of the days when commands were routed by session):
            // it may have landed on another cluster's shard, where running it could overlap this
            // cluster's owner. Sent on to its cluster's shard instead.
            try await bus.reroute(delivery, routingKey: expected)
            try await consumer.ack(delivery)
            GeoRepMetrics.command(action: command.action.rawValue, outcome: "rerouted")
            logger.info("command rerouted to its cluster's shard", metadata: [
                "command_id": "\(command.commandId.uuidString.lowercased())", "routing_key": "\(ValidationError.printable(delivery.routingKey))",
            ])
            return
        }

        // Every line of this command's work carries its id and session, whoever logs it.
        let context: Logger.Metadata = [
            "command_id": "\(command.commandId.uuidString.lowercased())", "session": "\(command.session.key)",
            "action": "\(command.action.rawValue)",
        ]
        try await LogContext.$metadata.withValue(context) {
            try await handle(command, delivery, consumer: consumer, bus: bus)
        }
    }

    func handle(_ command: Command, _ delivery: Delivery, consumer: AMQPConnection, bus: GeoRepBus) async throws {
        let log = logger
        let attempt = delivery.properties.intHeader("x-georep-attempt") ?? 0
        // A redelivery (a worker died or lost its connection before acking) or a retry may have
        // taken effect already.
        let mayHaveRun = delivery.redelivered || (delivery.properties.intHeader("x-delivery-count") ?? 0) > 0 || attempt > 0
            || delivery.properties.intHeader(GeoRepBus.mayHaveRunHeader) == 1
        log.info("command received", metadata: mayHaveRun ? ["may_have_run": "true"] : [:])

        if let earlier = await earlierResult(of: command, mayHaveRun: mayHaveRun, bus: bus, log: log) {
            // Exactly one result event per command: the first stands; a waiting sender gets a copy.
            if let replyTo = delivery.properties.replyTo {
                var reply = try bus.message(.commandResult(earlier), correlationId: command.commandId.uuidString.lowercased())
                reply.exchange = ""
                reply.routingKey = replyTo
                reply.mandatory = false
                try await bus.connection.publish([reply])
            }
            try await consumer.ack(delivery)
            GeoRepMetrics.command(action: command.action.rawValue, outcome: "duplicate")
            log.info("command seen before; answered from the journal", metadata: ["outcome": "\(earlier.outcome.rawValue)"])
            return
        }

        if await waits.isWaiting(command.commandId) {
            // Its checkpoint is set and its result is owed: the cluster's owner sends it (to the
            // first copy's reply_to) when the checkpoint completes or the wait runs out.
            try await consumer.ack(delivery)
            GeoRepMetrics.command(action: command.action.rawValue, outcome: "duplicate")
            log.info("command seen before; its wait for the checkpoint is pending")
            return
        }

        guard case .allowed(let grant) = try await checkGrant(command, delivery, consumer: consumer, bus: bus, log: log) else { return }

        if gluster.inventory.cluster(command.session.cluster) == nil {
            try await reject(delivery, command, GlusterError.unknownCluster(command.session.cluster).errorInfo, deadLetter: true,
                             consumer: consumer, bus: bus, log: log)
            return
        }

        if command.action == .schedule {
            try await setSchedule(command, delivery, consumer: consumer, bus: bus, log: log)
            return
        }

        let outcome: (CommandResult.Outcome, String, ErrorInfo?)
        do {
            outcome = try await run(command, mayHaveRun: mayHaveRun, log: log)
        } catch {
            if error.retryable && attempt + 1 < maxAttempts {
                // Later, on the same shard; no result yet: the command is still under way.
                try await bus.retryLater(delivery, session: command.session, attempt: attempt + 1)
                try await consumer.ack(delivery)
                GeoRepMetrics.command(action: command.action.rawValue, outcome: "retried")
                log.warning("transient failure; retrying later", metadata: ["attempt": "\(attempt + 1)", "error": "\(error)"])
                return
            }
            if case .volumeNotFound = error {
                try await reject(delivery, command, error.errorInfo, deadLetter: true, consumer: consumer, bus: bus, log: log)
                return
            }
            outcome = (.failed, error.description, error.errorInfo)
        }
        let result = CommandResult(commandId: command.commandId, action: command.action.rawValue, session: command.session,
                                   outcome: outcome.0, message: outcome.1, error: outcome.2, grant: grant)
        if command.action == .checkpoint, let wait = command.options.wait, result.outcome == .succeeded,
           try await finishWaiting(delivery, command, result, seconds: wait, consumer: consumer, bus: bus) {
            GeoRepMetrics.command(action: command.action.rawValue, outcome: "waiting")
            log.info("checkpoint set; its result follows when it completes", metadata: ["wait_seconds": "\(wait)"])
            return
        }
        try await finish(delivery, command, result, consumer: consumer, bus: bus)
        GeoRepMetrics.command(action: command.action.rawValue, outcome: result.outcome.rawValue)
        var done: Logger.Metadata = ["outcome": "\(result.outcome.rawValue)", "message": "\(result.message)"]
        for (key, value) in CommandTiming.current?.metadata ?? [:] { done[key] = "\(value)" }
        log.info("command done", metadata: done)
    }

    /// A `schedule` command: nothing runs on gluster now. The schedule goes to the journal
    /// (``ScheduleSet``), where every worker learns it and the cluster's owner acts on its
    /// windows (``SyncWindowKeeper``); then the result.
    func setSchedule(_ command: Command, _ delivery: Delivery, consumer: AMQPConnection, bus: GeoRepBus, log: Logger) async throws {
        let set = ScheduleSet(session: command.session, schedule: command.options.schedule ?? SyncSchedule(), commandId: command.commandId,
                              setAt: Date())
        let message = if set.schedule.isEmpty {
            "schedule cleared"
        } else {
            "schedule set; next window \(set.nextWindow.map { "\(Timestamp.format($0.start)) - \(Timestamp.format($0.end))" } ?? "none")"
        }
        let result = CommandResult(commandId: command.commandId, action: command.action.rawValue, session: command.session,
                                   outcome: .succeeded, message: message)
        try await bus.publish([.scheduleSet(set)], then: .commandResult(result), correlationId: command.commandId.uuidString.lowercased(),
                              replyTo: delivery.properties.replyTo)
        countPublished([.scheduleSet(set), .commandResult(result)])
        try await consumer.ack(delivery)
        GeoRepMetrics.command(action: command.action.rawValue, outcome: result.outcome.rawValue)
        log.info("command done", metadata: ["outcome": "\(result.outcome.rawValue)", "message": "\(message)"])
    }

    /// The command's first result, if it has one. For a command that may have run, the journal
    /// is first brought up to now (a marker written and read back), so that a result published by
    /// a worker that died before acking is found.
    func earlierResult(of command: Command, mayHaveRun: Bool, bus: GeoRepBus, log: Logger) async -> CommandResult? {
        if let known = await journal.result(of: command.commandId) { return known }
        guard mayHaveRun else { return nil }
        if await !JournalSync(journal: journal, instance: instance, timeout: journalSyncTimeout).catchUp(bus: bus, log: log) {
            log.warning("the policy alone keeps the command from running twice")
        }
        return await journal.result(of: command.commandId)
    }

    /// Decides with the session's current state, then runs the gluster operation (or not).
    func run(_ command: Command, mayHaveRun: Bool, log: Logger) async throws(GlusterError) -> (CommandResult.Outcome, String, ErrorInfo?) {
        let current = try await currentStatus(command)
        var checkpointSince = false
        if command.action == .checkpoint && mayHaveRun && current != nil {
            // gluster keeps the checkpoint as epoch seconds in the session's config.
            let epoch = await reader.options(of: command.session)?["checkpoint"].flatMap(Double.init) ?? 0
            checkpointSince = epoch > 0 && epoch >= command.issuedAt.timeIntervalSince1970.rounded(.down) - 1
        }
        switch CommandPolicy.decide(command.action, current: current, options: command.options, mayHaveRun: mayHaveRun,
                                    checkpointSince: checkpointSince) {
        case .reject(let code, let message):
            return (.rejected, message, ErrorInfo(code: code, message: message))
        case .alreadyDone(let message):
            return (.succeeded, message, nil)
        case .execute:
            return (.succeeded, try await execute(command), nil)
        }
    }

    /// The session's status now; nil when gluster has no such session. Create does not ask
    /// (gluster's create answers for itself), nor do refresh and discover.
    func currentStatus(_ command: Command) async throws(GlusterError) -> GeoRepStatus? {
        switch command.action {
        case .create, .refresh, .discover, .schedule: return nil
        default: break
        }
        do {
            return try await gluster.status(cluster: command.session.cluster, session: command.session).first?.status
        } catch .sessionNotFound {
            return nil
        }
    }

    func reject(_ delivery: Delivery, _ command: Command, _ error: ErrorInfo, deadLetter: Bool,
                consumer: AMQPConnection, bus: GeoRepBus, log: Logger) async throws {
        let result = CommandResult(commandId: command.commandId, action: command.action.rawValue, session: command.session,
                                   outcome: .rejected, message: error.message, error: error)
        try await bus.publish(.commandResult(result), correlationId: command.commandId.uuidString.lowercased(),
                              replyTo: delivery.properties.replyTo)
        if deadLetter { try await bus.deadLetter(delivery, from: delivery.queue, code: error.code, reason: error.message) }
        try await consumer.ack(delivery)
        GeoRepMetrics.command(action: command.action.rawValue, outcome: "rejected")
        if deadLetter { GeoRepMetrics.deadLettered(code: error.code, role: "worker") }
        log.warning("command rejected", metadata: ["code": "\(error.code)", "reason": "\(error.message)"])
    }

    /// Reads the session back, publishes its events and then the result, and acks.
    func finish(_ delivery: Delivery, _ command: Command, _ result: CommandResult, consumer: AMQPConnection, bus: GeoRepBus) async throws {
        let cause = Observation.Cause.command(command.commandId)
        // Options change only through config commands (and outside changes, which the monitor's
        // full snapshots catch): other commands need not read them back.
        let optionsMayChange: Set<CommandAction> = [.create, .configSet, .configReset, .checkpoint, .refresh]
        // After a delete gluster confirmed there is nothing to read: asking would only get its
        // ambiguous "no session / no status" answer, which the executor asks twice more about.
        let gone = command.action == .delete && result.outcome == .succeeded
        let events = command.action == .discover
            ? await reader.observeCluster(command.session.cluster, forceSnapshot: true)
            : await reader.observe(command.session, cause: cause,
                                   readOptions: optionsMayChange.contains(command.action) && command.options.statusOnly != true, knownGone: gone)
        // The state events and then the result, confirmed as one lot: one broker round trip.
        try await bus.publish(events, then: .commandResult(result), correlationId: command.commandId.uuidString.lowercased(),
                              replyTo: delivery.properties.replyTo)
        // Known at once, not only when the journal stream brings it back: a copy right behind
        // (every worker's refresh for one webhook event) is answered, not run again.
        await journal.record(result)
        countPublished(events + [.commandResult(result)])
        try await consumer.ack(delivery)
    }

    /// A `checkpoint` with `wait` whose checkpoint is set: reads the session back and, unless the
    /// checkpoint is complete already (false: the caller answers at once), publishes its state
    /// events and the wait's record (``CommandWaiting``) and acks. The lane is free again at
    /// once; the cluster's owner answers the wait when it reads the cluster (``ClusterMonitor``).
    func finishWaiting(_ delivery: Delivery, _ command: Command, _ result: CommandResult, seconds: Int,
                       consumer: AMQPConnection, bus: GeoRepBus) async throws -> Bool {
        let events = await reader.observe(command.session, cause: .command(command.commandId), readOptions: true)
        let (status, progress) = await reader.tracker.checkpoint(of: command.session.sessionID)
        if status == .active, progress?.state == .completed {
            return false
        }
        let now = Date()
        let wait = CommandWaiting(
            commandId: command.commandId, action: command.action.rawValue, session: command.session,
            checkpointTime: progress?.checkpointTime, since: now, deadline: now.addingTimeInterval(Double(seconds)),
            replyTo: delivery.properties.replyTo, correlationId: delivery.properties.correlationId ?? command.commandId.uuidString.lowercased())
        try await bus.publish(events + [.commandWaiting(wait)])
        countPublished(events + [.commandWaiting(wait)])
        await waits.register(wait)
        try await consumer.ack(delivery)
        return true
    }

    /// Runs the command's gluster operation. Answers that say the wanted state already holds
    /// count as success, so re-sent commands are harmless.
    func execute(_ command: Command) async throws(GlusterError) -> String {
        let ref = command.session
        let o = command.options
        let cluster = ref.cluster
        let id = command.commandId
        switch command.action {
        case .create:
            let message = try await gluster.perform(.create(ref, o), cluster: cluster, commandID: id)
            guard o.pushPem ?? true, let step = NonRootSetup.keysStep(for: ref) else { return message }
            return "\(message); \(step)"
        case .start, .stop, .pause, .resume:
            let verb: GlusterOperation.Lifecycle = switch command.action {
            case .start: .start
            case .stop: .stop
            case .pause: .pause
            default: .resume
            }
            do throws(GlusterError) {
                let message = try await gluster.perform(.lifecycle(verb, ref, force: o.force ?? false), cluster: cluster, commandID: id)
                if let notRunning = GlusterError.notRunning(after: verb.rawValue, message: message) { throw notRunning }
                return message
            } catch .alreadyStarted(let m) where verb == .start {
                return "already started: \(m)"
            } catch .alreadyStopped(let m) where verb == .stop {
                return "already stopped: \(m)"
            } catch .alreadyPaused(let m) where verb == .pause {
                return "already paused: \(m)"
            }
        case .delete:
            if o.stopFirst == true {
                // A stop that fails (already stopped, or no such session: gluster then says only
                // "Commit failed") is not the answer; the delete below says what holds.
                do {
                    try await gluster.perform(.lifecycle(.stop, ref, force: true), cluster: cluster, commandID: id)
                } catch .invalidInput(let error) {
                    throw .invalidInput(error)
                } catch {
                    logger.debug("stop before delete did not apply", metadata: ["session": "\(ref)", "error": "\(error)"])
                }
            }
            do {
                return try await gluster.perform(.delete(ref, resetSyncTime: o.resetSyncTime ?? false), cluster: cluster, commandID: id)
            } catch .sessionNotFound(let m) {
                return "already deleted: \(m)"
            }
        case .configSet:
            return try await gluster.perform(.configSet(ref, key: o.key ?? "", value: o.value ?? ""), cluster: cluster, commandID: id)
        case .configReset:
            return try await gluster.perform(.configReset(ref, key: o.key ?? ""), cluster: cluster, commandID: id)
        case .checkpoint:
            let answer = try await gluster.perform(.checkpoint(ref, at: o.checkpoint), cluster: cluster, commandID: id)
            await touch.touch(ref, force: true, settle: 2)
            return answer
        case .refresh:
            return "refreshed"
        case .discover:
            return "discovered"
        case .schedule:
            // Never reaches gluster (setSchedule answers it).
            return "scheduled"
        }
    }
}

