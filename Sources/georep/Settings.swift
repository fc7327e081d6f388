import AMQP
import ArgumentParser
import Foundation
import Logging
import Observability
import ServiceHTTP

/// Every setting of every process, in one list: `georep settings` prints it with the values in
/// effect, and the README's table is checked against it by the tests.
///
/// A value comes from, first to last: the command-line option, the environment, the config file
/// (`GEOREP_CONFIG` or `--config`: `NAME=value` lines, as systemd's `EnvironmentFile=` reads
/// them), the default.
enum Setting: String, CaseIterable, Sendable {
    case config = "GEOREP_CONFIG"
    case amqpURL = "GEOREP_AMQP_URL"
    case postgresURL = "GEOREP_PG_URL"
    case shards = "GEOREP_SHARDS"
    case topologyPrefix = "GEOREP_TOPOLOGY_PREFIX"
    case declareTopology = "GEOREP_DECLARE_TOPOLOGY"
    case logLevel = "GEOREP_LOG_LEVEL"
    case logFormat = "GEOREP_LOG_FORMAT"
    case http = "GEOREP_HTTP"
    case inventory = "GEOREP_INVENTORY"
    case monitorInterval = "GEOREP_MONITOR_INTERVAL"
    case snapshotEvery = "GEOREP_SNAPSHOT_EVERY"
    case gluster = "GEOREP_GLUSTER"
    case glusterTimeout = "GEOREP_GLUSTER_TIMEOUT"
    case glusterSuspectAfter = "GEOREP_GLUSTER_SUSPECT_AFTER"
    case workerConcurrency = "GEOREP_WORKER_CONCURRENCY"
    case heartbeatInterval = "GEOREP_HEARTBEAT_INTERVAL"
    case webhookTokens = "GEOREP_WEBHOOK_TOKENS"
    case persisterBatch = "GEOREP_PERSISTER_BATCH"
    case persisterBatchDelay = "GEOREP_PERSISTER_BATCH_DELAY_MS"
    case schemas = "GEOREP_SCHEMAS"
    case apiTokens = "GEOREP_API_TOKENS"

    /// Which processes read it.
    var usedBy: String {
        switch self {
        case .config, .amqpURL, .shards, .topologyPrefix, .declareTopology, .logLevel, .logFormat, .http: "all"
        case .postgresURL: "persister, api, migrate, status"
        case .inventory, .monitorInterval, .snapshotEvery, .gluster, .glusterTimeout, .glusterSuspectAfter, .workerConcurrency,
             .heartbeatInterval, .webhookTokens:
            "worker"
        case .persisterBatch, .persisterBatchDelay: "persister"
        case .schemas: "migrate"
        case .apiTokens: "api"
        }
    }

    var defaultValue: String {
        switch self {
        case .config, .amqpURL, .postgresURL, .inventory, .webhookTokens, .apiTokens: ""
        case .shards: "4"
        case .topologyPrefix: "georep"
        case .declareTopology: "true"
        case .logLevel: "info"
        case .logFormat: "text"
        case .http: "worker 127.0.0.1:9810, persister 127.0.0.1:9820, api 127.0.0.1:8080"
        case .monitorInterval: "15"
        case .snapshotEvery: "20"
        case .gluster: "gluster"
        case .glusterTimeout: "120"
        case .glusterSuspectAfter: "20"
        case .workerConcurrency: "4"
        case .heartbeatInterval: "2"
        case .persisterBatch: "500"
        case .persisterBatchDelay: "20"
        case .schemas: "Schemas/sql"
        }
    }

    var help: String {
        switch self {
        case .config: "file of NAME=value lines read for any setting not in the environment"
        case .amqpURL: "RabbitMQ URL, amqp:// or amqps://user:password@host:port/vhost?cacertfile=…&certfile=…&keyfile=…"
        case .postgresURL: "PostgreSQL URL or libpq connection string (sslmode=verify-full&sslrootcert=… for TLS)"
        case .shards: "command shard queues; the same in every process"
        case .topologyPrefix: "name prefix of every exchange and queue"
        case .declareTopology: "declare the exchanges and queues on connect; false where ops import them and users may not configure"
        case .logLevel: "trace, debug, info, notice, warning, error"
        case .logFormat: "text, or json (one object per line, with command_id and session on a command's lines)"
        case .http: "host:port of the process's HTTP server (/health/live, /health/ready, /metrics; the API; webhooks)"
        case .inventory: "JSON file: cluster id → gluster hosts (local or ssh) and the ssh settings"
        case .monitorInterval: "seconds between two status reads of a cluster; 0 turns monitoring off"
        case .snapshotEvery: "a full snapshot of every session every this many monitor rounds"
        case .gluster: "the gluster program (path or name in PATH)"
        case .glusterTimeout: "seconds one gluster command may take"
        case .glusterSuspectAfter: "seconds a read may run before the worker looks for a wedged glusterd on its host (and ends the read if it is)"
        case .workerConcurrency: "commands one worker runs at once"
        case .heartbeatInterval: "seconds between worker heartbeats; a worker silent for three is gone"
        case .webhookTokens: "comma-separated bearer tokens glustereventsd sends (gluster-eventsapi webhook-add … -t TOKEN)"
        case .persisterBatch: "events written in one transaction at most"
        case .persisterBatchDelay: "milliseconds a batch waits to fill"
        case .schemas: "directory of the numbered SQL migrations"
        case .apiTokens: "comma-separated TOKEN:ROLE pairs, ROLE read or write (write includes read)"
        }
    }

    var isSecret: Bool { self == .amqpURL || self == .postgresURL || self == .webhookTokens || self == .apiTokens }
}

/// Options shared by every subcommand; each falls back to its setting (environment, config file).
struct Settings: ParsableArguments {
    @Option(help: "Config file of NAME=value lines (env GEOREP_CONFIG).")
    var config: String?

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

    @Option(help: "Log format: text or json (env GEOREP_LOG_FORMAT, default text).")
    var logFormat: String?

    @Option(help: "host:port of this process's HTTP server (env GEOREP_HTTP).")
    var http: String?

    var env: [String: String] { ProcessInfo.processInfo.environment }

    /// The config file's values (empty without one). A file that cannot be read is an error.
    func fileValues() throws -> [String: String] {
        guard let path = config ?? env[Setting.config.rawValue], !path.isEmpty else { return [:] }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ValidationError("cannot read the config file \(path): \(error.localizedDescription)")
        }
        var values: [String: String] = [:]
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") else { continue }
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == value.last, first == "\"" || first == "'" { value = String(value.dropFirst().dropLast()) }
            values[line[..<eq].trimmingCharacters(in: .whitespaces)] = value
        }
        return values
    }

    /// A setting's value from the environment or the config file; nil when neither has it.
    func value(_ setting: Setting) -> String? {
        if let v = env[setting.rawValue], !v.isEmpty { return v }
        if let v = (try? fileValues())?[setting.rawValue], !v.isEmpty { return v }
        return nil
    }

    func number(_ setting: Setting) throws -> Double? {
        guard let text = value(setting) else { return nil }
        guard let n = Double(text), n >= 0 else { throw ValidationError("\(setting.rawValue) must be a non-negative number, not \(text)") }
        return n
    }

    func amqp() throws -> String {
        _ = try fileValues()
        guard let url = amqpURL ?? value(.amqpURL) else {
            throw ValidationError("no RabbitMQ URL: pass --amqp-url or set GEOREP_AMQP_URL (source /var/lib/georep/stack.env after ops/stack-up.sh)")
        }
        return url
    }

    func postgres() throws -> String {
        guard let url = postgresURL ?? value(.postgresURL) else {
            throw ValidationError("no PostgreSQL URL: pass --pg-url or set GEOREP_PG_URL (source /var/lib/georep/stack.env after ops/stack-up.sh)")
        }
        return url
    }

    var topology: GeoRepTopology {
        var topology = GeoRepTopology(shards: shards ?? value(.shards).flatMap { Int($0) } ?? 4,
                                      prefix: topologyPrefix ?? value(.topologyPrefix) ?? "georep")
        topology.declares = (value(.declareTopology) ?? "true").lowercased() != "false"
        return topology
    }

    /// The HTTP listener, or `fallback` (each process has its own default port).
    func listener(default fallback: String) throws -> HTTPListener {
        let text = http ?? value(.http) ?? fallback
        guard let listener = HTTPListener(text) else { throw ValidationError("GEOREP_HTTP must be host:port, not \(text)") }
        return listener
    }

    func logger(_ label: String) -> Logger {
        let level = Logger.Level(rawValue: (logLevel ?? value(.logLevel) ?? "info").lowercased()) ?? .info
        let json = (logFormat ?? value(.logFormat) ?? "text").lowercased() == "json"
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
