/// Exchanges, queues and bindings, declared from one definition in code.
public struct Topology: Sendable {
    public struct Exchange: Sendable {
        public var name: String
        public var type: String
        public var isInternal = false
        public var arguments: [(String, AMQPValue)] = []
    }

    public struct Queue: Sendable {
        public var name: String
        public var durable = true
        public var exclusive = false
        public var autoDelete = false
        public var arguments: [(String, AMQPValue)] = []
    }

    public struct Binding: Sendable {
        public var queue: String
        public var exchange: String
        public var routingKey: String
    }

    public var exchanges: [Exchange]
    public var queues: [Queue]
    public var bindings: [Binding]

    public init(exchanges: [Exchange], queues: [Queue], bindings: [Binding]) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
    }
}

/// The service's topology and its names.
///
/// - Commands go to `georep.commands`, a consistent-hash exchange that hashes the routing key
///   (the session key) onto `shards` durable quorum queues with single-active-consumer: one
///   session's commands land on one shard and are handled in order by one worker at a time,
///   while any number of workers share the shards.
/// - Events go to the `georep.events` topic exchange; the persister's quorum queue takes `georep.#`.
/// - Rejected or poison messages go through `georep.dlx` to `georep.dead`; quorum queues count
///   deliveries and dead-letter a message past `deliveryLimit`.
public struct GeoRepTopology: Sendable {
    public static let commandsExchange = "georep.commands"
    public static let eventsExchange = "georep.events"
    public static let deadLetterExchange = "georep.dlx"
    public static let deadLetterQueue = "georep.dead"
    public static let persisterQueue = "georep.persister"

    public var shards: Int
    public var deliveryLimit: Int

    public init(shards: Int = 4, deliveryLimit: Int = 5) {
        self.shards = max(1, shards)
        self.deliveryLimit = deliveryLimit
    }

    public var shardQueues: [String] { (0..<shards).map { "georep.commands.shard.\($0)" } }

    public var topology: Topology {
        let quorum: [(String, AMQPValue)] = [
            ("x-queue-type", .string("quorum")),
            ("x-dead-letter-exchange", .string(Self.deadLetterExchange)),
            ("x-delivery-limit", .int(deliveryLimit)),
        ]
        var queues = shardQueues.map { Topology.Queue(name: $0, arguments: quorum + [("x-single-active-consumer", .bool(true))]) }
        queues.append(Topology.Queue(name: Self.persisterQueue, arguments: quorum))
        queues.append(Topology.Queue(name: Self.deadLetterQueue, arguments: [("x-queue-type", .string("quorum"))]))
        // A consistent-hash binding's key is the shard's weight.
        var bindings = shardQueues.map { Topology.Binding(queue: $0, exchange: Self.commandsExchange, routingKey: "1") }
        bindings.append(Topology.Binding(queue: Self.persisterQueue, exchange: Self.eventsExchange, routingKey: "georep.#"))
        bindings.append(Topology.Binding(queue: Self.deadLetterQueue, exchange: Self.deadLetterExchange, routingKey: "#"))
        return Topology(
            exchanges: [
                Topology.Exchange(name: Self.commandsExchange, type: "x-consistent-hash"),
                Topology.Exchange(name: Self.eventsExchange, type: "topic"),
                Topology.Exchange(name: Self.deadLetterExchange, type: "topic"),
            ],
            queues: queues,
            bindings: bindings)
    }
}
