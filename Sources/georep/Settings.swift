import AMQP
import ArgumentParser
import Foundation
import Logging

/// Options shared by every subcommand; each falls back to its environment variable.
struct Settings: ParsableArguments {
    @Option(help: "RabbitMQ URL (env GEOREP_AMQP_URL).")
    var amqpURL: String?

    @Option(name: .customLong("pg-url"), help: "PostgreSQL URL or libpq connection string (env GEOREP_PG_URL).")
    var postgresURL: String?

    @Option(help: "Command shard queues; must match across all processes (env GEOREP_SHARDS, default 4).")
    var shards: Int?

    @Option(help: "Name prefix of every exchange and queue (env GEOREP_TOPOLOGY_PREFIX, default georep).")
    var topologyPrefix: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error (env GEOREP_LOG_LEVEL, default info).")
    var logLevel: String?

    var env: [String: String] { ProcessInfo.processInfo.environment }

    func amqp() throws -> String {
        guard let url = amqpURL ?? env["GEOREP_AMQP_URL"] else {
            throw ValidationError("no RabbitMQ URL: pass --amqp-url or set GEOREP_AMQP_URL (source /var/lib/georep/stack.env after ops/stack-up.sh)")
        }
        return url
    }

    func postgres() throws -> String {
        guard let url = postgresURL ?? env["GEOREP_PG_URL"] else {
            throw ValidationError("no PostgreSQL URL: pass --pg-url or set GEOREP_PG_URL (source /var/lib/georep/stack.env after ops/stack-up.sh)")
        }
        return url
    }

    var topology: GeoRepTopology {
        GeoRepTopology(shards: shards ?? env["GEOREP_SHARDS"].flatMap { Int($0) } ?? 4,
                       prefix: topologyPrefix ?? env["GEOREP_TOPOLOGY_PREFIX"] ?? "georep")
    }

    func logger(_ label: String) -> Logger {
        let level = Logger.Level(rawValue: (logLevel ?? env["GEOREP_LOG_LEVEL"] ?? "info").lowercased()) ?? .info
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}
