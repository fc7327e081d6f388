import ArgumentParser

/// The faults a chaos run injects, and how many of each.
struct ChaosFaults: ParsableArguments {
    enum Fault: CaseIterable {
        case workerKill
        case persisterKill
        case rabbitRestart
        case postgresRestart

        /// How the run's summary counts it.
        var plural: String {
            switch self {
            case .workerKill: "worker kills"
            case .persisterKill: "persister kills"
            case .rabbitRestart: "RabbitMQ restarts"
            case .postgresRestart: "PostgreSQL restarts"
            }
        }
    }

    @Option(help: "Worker SIGKILLs.") var workerKills = 20
    @Option(help: "Persister SIGKILLs.") var persisterKills = 5
    @Option(help: "RabbitMQ restarts.") var rabbitRestarts = 3
    @Option(help: "PostgreSQL restarts.") var postgresRestarts = 3

    /// How many of `fault` the run asks for.
    func count(_ fault: Fault) -> Int {
        switch fault {
        case .workerKill: workerKills
        case .persisterKill: persisterKills
        case .rabbitRestart: rabbitRestarts
        case .postgresRestart: postgresRestarts
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
