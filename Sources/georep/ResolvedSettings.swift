import AMQP
import ArgumentParser
import Foundation
import Logging
import Observability
import ServiceHTTP

/// Every setting's value in effect, read once at start by ``Settings/resolve(environment:)`` and
/// already checked: what a command uses from then on. Defaults come from ``Setting/defaultValue``
/// and nowhere else.
struct ResolvedSettings: Sendable {
    /// The values set by an option, the environment or the config file.
    let explicit: [Setting: String]

    /// The value set for `setting`, if any (no default).
    func value(_ setting: Setting) -> String? { explicit[setting] }

    /// The value set, else the default.
    func string(_ setting: Setting) -> String { explicit[setting] ?? setting.defaultValue }

    /// A numeric setting (checked at resolve; defaults are numbers for every numeric setting).
    func number(_ setting: Setting) -> Double { Double(string(setting)) ?? 0 }

    func integer(_ setting: Setting) -> Int { Int(number(setting)) }

    func amqp() throws -> String {
        guard let url = value(.amqpURL) else {
            throw ValidationError("no RabbitMQ URL: pass --amqp-url or set GEOREP_AMQP_URL (source /var/lib/georep/stack.env after ops/stack-up.sh)")
        }
        return url
    }

    func postgres() throws -> String {
        guard let url = value(.postgresURL) else {
            throw ValidationError("no PostgreSQL URL: pass --pg-url or set GEOREP_PG_URL (source /var/lib/georep/stack.env after ops/stack-up.sh)")
        }
        return url
    }

    var topology: GeoRepTopology {
        var topology = GeoRepTopology(shards: integer(.shards), prefix: string(.topologyPrefix))
        topology.declares = string(.declareTopology).lowercased() != "false"
        return topology
    }

    /// `GEOREP_AMQP_ADMIN_USERS`: the RabbitMQ users a worker grants the options that run
    /// programs or move state to.
    var adminPublishers: Set<String> {
        Set(string(.amqpAdminUsers).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }

    /// Comma-separated values of a list setting, trimmed.
    func list(_ setting: Setting) -> [String] {
        string(setting).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The process's HTTP listener: `GEOREP_HTTP`, else its role's own default port.
    func listener(for role: Setting.Role) throws -> HTTPListener {
        let text = value(.http) ?? role.defaultListener
        guard let listener = HTTPListener(text) else { throw ValidationError("GEOREP_HTTP must be host:port, not \(text)") }
        return listener
    }

    func logger(_ label: String) -> Logger {
        let level = Logger.Level(rawValue: string(.logLevel).lowercased()) ?? .info
        let json = string(.logFormat).lowercased() == "json"
        // LogContext: a command's id and session on every line of its work, whoever logs it.
        LoggingSystem.bootstrap({ label, provider in
            json ? JSONLogHandler(label: label, metadataProvider: provider) as any LogHandler
                : StreamLogHandler.standardError(label: label, metadataProvider: provider)
        }, metadataProvider: LogContext.provider)
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}
