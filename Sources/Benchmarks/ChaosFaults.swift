import ArgumentParser

/// The faults a chaos run injects, and how many of each.
struct ChaosFaults: ParsableArguments {
    enum Fault: CaseIterable {
        case workerKill
        case persisterKill
        case rabbitRestart
        case postgresRestart
        /// SIGKILL of the RabbitMQ cluster node leading most shard queues (ops/rabbit-cluster.sh),
        /// started again one fault later.
        case clusterNodeKill

        /// How the run's summary counts it.
        var plural: String {
            switch self {
            case .workerKill: "worker kills"
            case .persisterKill: "persister kills"
            case .rabbitRestart: "RabbitMQ restarts"
            case .postgresRestart: "PostgreSQL restarts"
            case .clusterNodeKill: "RabbitMQ cluster node kills"
            }
        }
    }

    @Option(help: "Worker SIGKILLs.") var workerKills = 20
    @Option(help: "Persister SIGKILLs.") var persisterKills = 5
    @Option(help: "RabbitMQ restarts.") var rabbitRestarts = 3
    @Option(help: "PostgreSQL restarts.") var postgresRestarts = 3
    @Option(help: "RabbitMQ cluster node SIGKILLs (ops/rabbit-cluster.sh; GEOREP_AMQP_URL lists its nodes): each kills the node leading most shard queues and starts it again one fault later.")
    var rabbitNodeKills = 0
    @Flag(help: "After the faults, restart the RabbitMQ cluster's nodes one at a time (ops/rabbit-cluster.sh rolling).")
    var rollingRestart = false

    /// How many of `fault` the run asks for.
    func count(_ fault: Fault) -> Int {
        switch fault {
        case .workerKill: workerKills
        case .persisterKill: persisterKills
        case .rabbitRestart: rabbitRestarts
        case .postgresRestart: postgresRestarts
        case .clusterNodeKill: rabbitNodeKills
        }
    }

    /// Every fault as many times as asked, in a random order.
    func shuffled() -> [Fault] {
        Fault.allCases.flatMap { Array(repeating: $0, count: count($0)) }.shuffled()
    }

    /// "20 worker kills, 5 persister kills, …", counted by `count`.
    static func summary(_ count: (Fault) -> Int) -> String {
        Fault.allCases.map { "\(count($0)) \($0.plural)" }.joined(separator: ", ")
    }
}
