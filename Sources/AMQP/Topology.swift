/// Exchanges, queues and bindings, declared from one definition in code.
public struct Topology: Sendable {
    public struct Exchange: Sendable {
        public var name: String
        public var type: String
        public var isInternal = false
        public var arguments: [(String, AMQPValue)] = []

        public init(name: String, type: String, isInternal: Bool = false, arguments: [(String, AMQPValue)] = []) {
            self.name = name
            self.type = type
            self.isInternal = isInternal
            self.arguments = arguments
        }
    }

    public struct Queue: Sendable {
        public var name: String
        public var durable = true
        public var exclusive = false
        public var autoDelete = false
        public var arguments: [(String, AMQPValue)] = []

        public init(name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false,
                    arguments: [(String, AMQPValue)] = []) {
            self.name = name
            self.durable = durable
            self.exclusive = exclusive
            self.autoDelete = autoDelete
            self.arguments = arguments
        }
    }

    public struct Binding: Sendable {
        public var queue: String
        public var exchange: String
        public var routingKey: String

        public init(queue: String, exchange: String, routingKey: String) {
            self.queue = queue
            self.exchange = exchange
            self.routingKey = routingKey
        }
    }

    /// An operator policy (`rabbitmqctl set_policy`): settings ops may change without
    /// re-declaring queues. Exported with the definitions; processes do not set them.
    public struct Policy: Sendable {
        public var name: String
        /// A regular expression over queue names.
        public var pattern: String
        public var definition: [(String, AMQPValue)]
        public var priority: Int

        public init(name: String, pattern: String, definition: [(String, AMQPValue)], priority: Int = 0) {
            self.name = name
            self.pattern = pattern
            self.definition = definition
            self.priority = priority
        }
    }

    public var exchanges: [Exchange]
    public var queues: [Queue]
    public var bindings: [Binding]
    public var policies: [Policy]

    public init(exchanges: [Exchange], queues: [Queue], bindings: [Binding], policies: [Policy] = []) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
        self.policies = policies
    }
}

/// The service's topology and its names.
///
/// - Commands go to `georep.commands`, a consistent-hash exchange that hashes the routing key
///   (`cluster:<id>`, ``CommandRouting``) onto `shards` durable quorum queues with
///   single-active-consumer: one cluster's commands, and its monitor ticks, land on one shard and
///   are handled in order by one worker at a time, while any number of workers share the shards.
/// - Events go to the `georep.events` topic exchange; the persister's quorum queue takes `georep.#`.
/// - Transient failures are retried later: the worker republishes the command to `georep.retry`,
///   whose queue holds it for `retryDelay` and then dead-letters it back to `georep.commands`
///   with its routing key, so it returns to its own shard.
/// - Rejected or poison messages go through `georep.dlx` to `georep.dead`; quorum queues count
///   deliveries and dead-letter a message past `deliveryLimit`.
///
/// - Workers find each other on the `georep.workers` fanout exchange (each binds a private queue
///   and sends heartbeats there) and split the shards between them.
/// - `georep.journal` is a stream (append-only, kept for `journalMaxAge`) of every command result
///   and status change: a worker that receives a redelivered command looks there for an earlier
///   result, so that no command is applied twice, and every worker follows the sessions' last
///   known status from it.
///
/// `prefix` renames everything (tests use their own prefix so they never touch the service's queues).
public struct GeoRepTopology: Sendable, Equatable {
    public var prefix: String
    public var shards: Int
    public var deliveryLimit: Int
    /// Milliseconds a retried command waits.
    public var retryDelay: Int

    public init(shards: Int = 4, deliveryLimit: Int = 5, retryDelay: Int = 5_000, prefix: String = "georep") {
        self.prefix = prefix
        self.shards = max(1, shards)
        self.deliveryLimit = deliveryLimit
        self.retryDelay = retryDelay
    }

    public var commandsExchange: String { "\(prefix).commands" }
    public var eventsExchange: String { "\(prefix).events" }
    public var retryExchange: String { "\(prefix).retry" }
    public var retryQueue: String { "\(prefix).commands.retry" }
    public var deadLetterExchange: String { "\(prefix).dlx" }
    public var deadLetterQueue: String { "\(prefix).dead" }
    public var persisterQueue: String { "\(prefix).persister" }
    public var membershipExchange: String { "\(prefix).workers" }
    public var journalQueue: String { "\(prefix).journal" }
    /// How long the journal keeps what it is told (RabbitMQ stream `x-max-age`).
    public var journalMaxAge = "24h"
    /// Whether processes declare the topology when they connect. Off where ops create it
    /// (`rabbitmqctl import_definitions ops/rabbitmq/definitions.json`) and the services' users
    /// may not configure anything (least privilege).
    public var declares = true

    /// What a process declares when it connects: the topology, or nothing.
    public var declarations: Topology { declares ? topology : Topology(exchanges: [], queues: [], bindings: []) }
    public var shardQueues: [String] { (0..<shards).map { "\(prefix).commands.shard.\($0)" } }
    /// The events routing keys all start with `georep.`, whatever the prefix.
    public static let allEventsKey = "georep.#"
    /// What the journal keeps: results (and pending waits), status changes and checkpoint
    /// announcements, not the (large, frequent) snapshots.
    public static let journalKeys = ["georep.command.*", "georep.session.status.*", "georep.brick.status.*", "georep.session.deleted",
                                     "georep.session.checkpoint.*", "georep.session.schedule.*", "georep.session.window.*"]

    public var topology: Topology {
        let quorum: [(String, AMQPValue)] = [
            ("x-queue-type", .string("quorum")),
            ("x-dead-letter-exchange", .string(deadLetterExchange)),
            ("x-delivery-limit", .int(deliveryLimit)),
        ]
        var queues = shardQueues.map { Topology.Queue(name: $0, arguments: quorum + [("x-single-active-consumer", .bool(true))]) }
        queues.append(Topology.Queue(name: persisterQueue, arguments: quorum))
        queues.append(Topology.Queue(name: retryQueue, arguments: [
            ("x-queue-type", .string("quorum")),
            ("x-message-ttl", .int(retryDelay)),
            ("x-dead-letter-exchange", .string(commandsExchange)),
        ]))
        queues.append(Topology.Queue(name: deadLetterQueue, arguments: [("x-queue-type", .string("quorum"))]))
        queues.append(Topology.Queue(name: journalQueue, arguments: [
            ("x-queue-type", .string("stream")),
            ("x-max-age", .string(journalMaxAge)),
            ("x-stream-max-segment-size-bytes", .int(8_000_000)),
        ]))
        // A consistent-hash binding's key is the shard's weight.
        var bindings = shardQueues.map { Topology.Binding(queue: $0, exchange: commandsExchange, routingKey: "1") }
        bindings.append(Topology.Binding(queue: persisterQueue, exchange: eventsExchange, routingKey: Self.allEventsKey))
        bindings.append(Topology.Binding(queue: retryQueue, exchange: retryExchange, routingKey: "#"))
        bindings.append(Topology.Binding(queue: deadLetterQueue, exchange: deadLetterExchange, routingKey: "#"))
        for key in Self.journalKeys {
            bindings.append(Topology.Binding(queue: journalQueue, exchange: eventsExchange, routingKey: key))
        }
        return Topology(
            exchanges: [
                Topology.Exchange(name: commandsExchange, type: "x-consistent-hash"),
                Topology.Exchange(name: eventsExchange, type: "topic"),
                Topology.Exchange(name: retryExchange, type: "topic"),
                Topology.Exchange(name: deadLetterExchange, type: "topic"),
                Topology.Exchange(name: membershipExchange, type: "fanout"),
            ],
            queues: queues,
            bindings: bindings,
            policies: [
                // In a RabbitMQ cluster, spread the quorum queues' leaders over the nodes.
                Topology.Policy(name: "\(prefix)-quorum-leaders", pattern: "^\(Self.escaped(prefix))\\.(commands\\.shard\\..*|persister)$",
                                definition: [("queue-leader-locator", .string("balanced"))]),
                // Dead letters are for reading, not for keeping forever: two weeks.
                Topology.Policy(name: "\(prefix)-dead-letters", pattern: "^\(Self.escaped(prefix))\\.dead$",
                                definition: [("message-ttl", .int(14 * 24 * 3600 * 1000))]),
            ])
    }

    static func escaped(_ name: String) -> String { name.replacingOccurrences(of: ".", with: "\\.") }
}
