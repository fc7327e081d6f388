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
    case checkpointStallAfter = "GEOREP_CHECKPOINT_STALL_AFTER"
    case checkpointTouch = "GEOREP_CHECKPOINT_TOUCH"
    case gluster = "GEOREP_GLUSTER"
    case glusterTimeout = "GEOREP_GLUSTER_TIMEOUT"
    case glusterSuspectAfter = "GEOREP_GLUSTER_SUSPECT_AFTER"
    case workerConcurrency = "GEOREP_WORKER_CONCURRENCY"
    case heartbeatInterval = "GEOREP_HEARTBEAT_INTERVAL"
    case webhookTokens = "GEOREP_WEBHOOK_TOKENS"
    case amqpAdminUsers = "GEOREP_AMQP_ADMIN_USERS"
    case persisterBatch = "GEOREP_PERSISTER_BATCH"
    case persisterBatchDelay = "GEOREP_PERSISTER_BATCH_DELAY_MS"
    case persisterWriters = "GEOREP_PERSISTER_WRITERS"
    case schemas = "GEOREP_SCHEMAS"
    case apiTokens = "GEOREP_API_TOKENS"

    /// The processes with an HTTP side, each with its own default port.
    enum Role: String, CaseIterable, Sendable {
        case worker, persister, api

        var defaultListener: String {
            switch self {
            case .worker: "127.0.0.1:9810"
            case .persister: "127.0.0.1:9820"
            case .api: "127.0.0.1:8080"
            }
        }
    }

    /// Which processes read it.
    var usedBy: String {
        switch self {
        case .config, .amqpURL, .shards, .topologyPrefix, .declareTopology, .logLevel, .logFormat, .http: "all"
        case .postgresURL: "persister, api, migrate, status"
        case .inventory, .monitorInterval, .snapshotEvery, .checkpointStallAfter, .checkpointTouch, .gluster, .glusterTimeout, .glusterSuspectAfter, .workerConcurrency,
             .heartbeatInterval, .webhookTokens, .amqpAdminUsers:
            "worker"
        case .persisterBatch, .persisterBatchDelay, .persisterWriters: "persister"
        case .schemas: "migrate"
        case .apiTokens: "api"
        }
    }

    var defaultValue: String {
        switch self {
        case .config, .amqpURL, .postgresURL, .inventory, .webhookTokens, .amqpAdminUsers, .apiTokens: ""
        case .shards: "4"
        case .topologyPrefix: "georep"
        case .declareTopology: "true"
        case .logLevel: "info"
        case .logFormat: "text"
        case .http: Role.allCases.map { "\($0.rawValue) \($0.defaultListener)" }.joined(separator: ", ")
        case .monitorInterval: "15"
        case .snapshotEvery: "20"
        case .checkpointStallAfter: "600"
        case .checkpointTouch: "true"
        case .gluster: "gluster"
        case .glusterTimeout: "120"
        case .glusterSuspectAfter: "20"
        case .workerConcurrency: "4"
        case .heartbeatInterval: "2"
        case .persisterBatch: "500"
        case .persisterBatchDelay: "20"
        case .persisterWriters: "2"
        case .schemas: "Schemas/sql"
        }
    }

    var help: String {
        switch self {
        case .config: "file of NAME=value lines read for any setting not in the environment"
        case .amqpURL:
            "RabbitMQ URL, amqp:// or amqps://user:password@host:port/vhost?cacertfile=…&certfile=…&keyfile=…; a comma-separated list of such URLs for the nodes of a cluster"
        case .postgresURL:
            "PostgreSQL URL or libpq connection string (sslmode=verify-full&sslrootcert=… for TLS); host1:port1,host2:port2 with target_session_attrs=read-write for a primary and standbys"
        case .shards: "command shard queues; the same in every process"
        case .topologyPrefix: "name prefix of every exchange and queue"
        case .declareTopology: "declare the exchanges and queues on connect; false where ops import them and users may not configure"
        case .logLevel: "trace, debug, info, notice, warning, error"
        case .logFormat: "text, or json (one object per line, with command_id and session on a command's lines)"
        case .http: "host:port of the process's HTTP server (/health/live, /health/ready, /metrics; the API; webhooks)"
        case .inventory: "JSON file: cluster id → gluster hosts (local or ssh) and the ssh settings"
        case .monitorInterval: "seconds between two status reads of a cluster; 0 turns monitoring off"
        case .snapshotEvery: "a full snapshot of every session every this many monitor rounds"
        case .checkpointStallAfter: "seconds a pending checkpoint's active bricks may not move before georep.session.checkpoint.stalled"
        case .checkpointTouch:
            "touch the primary volume's root through a short FUSE mount on a gluster host after a checkpoint is set, as schedule_georep.py does, so that idle bricks complete it"
        case .gluster: "the gluster program (path or name in PATH)"
        case .glusterTimeout: "seconds one gluster command may take"
        case .glusterSuspectAfter: "seconds a read may run before the worker looks for a wedged glusterd on its host (and ends the read if it is)"
        case .workerConcurrency: "commands one worker runs at once"
        case .heartbeatInterval: "seconds between worker heartbeats; a worker silent for three is gone"
        case .webhookTokens: "comma-separated bearer tokens glustereventsd sends (gluster-eventsapi webhook-add … -t TOKEN)"
        case .amqpAdminUsers:
            "comma-separated RabbitMQ users (the broker-checked user_id of a command) whose commands may change the options gsyncd runs or keeps its state by; empty: none"
        case .persisterBatch: "events written in one transaction at most"
        case .persisterBatchDelay: "milliseconds a batch waits to fill"
        case .persisterWriters: "batches written at once, each on a PostgreSQL connection of its own"
        case .schemas: "directory of the numbered SQL migrations"
        case .apiTokens: "comma-separated TOKEN:ROLE pairs, ROLE read, write or admin (each includes the one before)"
        }
    }

    var isSecret: Bool { self == .amqpURL || self == .postgresURL || self == .webhookTokens || self == .apiTokens }

    /// What is wrong with `value` for this setting, or nil when it is good.
    func problem(with value: String) -> String? {
        func number(_ least: Double, strictly: Bool = false, whole: Bool = false) -> String? {
            guard let n = Double(value), n.isFinite, strictly ? n > least : n >= least, !whole || n == n.rounded() else {
                let what = whole ? "a whole number" : "a number"
                return "must be \(what) \(strictly ? "above" : "of at least") \(whole ? String(Int(least)) : String(least))"
            }
            return nil
        }
        switch self {
        case .shards, .snapshotEvery, .workerConcurrency, .persisterBatch, .persisterWriters: return number(1, whole: true)
        case .monitorInterval, .persisterBatchDelay: return number(0)
        case .glusterTimeout, .glusterSuspectAfter, .heartbeatInterval, .checkpointStallAfter: return number(0, strictly: true)
        case .declareTopology, .checkpointTouch:
            return ["true", "false"].contains(value.lowercased()) ? nil : "must be true or false"
        case .logLevel:
            return Logger.Level(rawValue: value.lowercased()) == nil ? "must be one of trace, debug, info, notice, warning, error, critical" : nil
        case .logFormat:
            return ["text", "json"].contains(value.lowercased()) ? nil : "must be text or json"
        case .http:
            return HTTPListener(value) == nil ? "must be host:port" : nil
        case .amqpAdminUsers:
            let names = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let bad = names.first { $0.unicodeScalars.contains { $0.value <= 0x20 || $0.value == 0x7F } || $0.count > 255 }
            return bad.map { "\"\($0.prefix(40))\" is not a RabbitMQ user name (comma-separated names, no spaces)" }
        case .topologyPrefix:
            return value.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) } && value.count <= 64
                ? nil : "must be letters, digits, - _ . (at most 64)"
        case .config, .amqpURL, .postgresURL, .inventory, .gluster, .webhookTokens, .schemas, .apiTokens:
            return nil
        }
    }
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

    /// Reads every setting once — the options above, the environment, the config file, the
    /// defaults — and checks each value. An unreadable config file or a bad value stops the
    /// process here, with a message that names the setting; nothing later looks anything up.
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ResolvedSettings {
        var explicit: [Setting: String] = [:]
        let file = try fileValues(path: config ?? environment[Setting.config.rawValue])
        for setting in Setting.allCases {
            if let v = environment[setting.rawValue], !v.isEmpty {
                explicit[setting] = v
            } else if let v = file[setting.rawValue], !v.isEmpty {
                explicit[setting] = v
            }
        }
        let options: [(Setting, String?)] = [
            (.amqpURL, amqpURL), (.postgresURL, postgresURL), (.shards, shards.map(String.init)), (.topologyPrefix, topologyPrefix),
            (.logLevel, logLevel), (.logFormat, logFormat), (.http, http),
        ]
        for (setting, value) in options { if let value { explicit[setting] = value } }
        for (setting, value) in explicit {
            if let problem = setting.problem(with: value) {
                throw ValidationError("\(setting.rawValue)=\(setting.isSecret ? "(hidden)" : value): \(problem)")
            }
        }
        return ResolvedSettings(explicit: explicit)
    }

    /// The config file's `NAME=value` lines (none without a file). A file that cannot be read is an error.
    func fileValues(path: String?) throws -> [String: String] {
        guard let path, !path.isEmpty else { return [:] }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ValidationError("cannot read the config file \(path) (GEOREP_CONFIG): \(error.localizedDescription)")
        }
        var values: [String: String] = [:]
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            // A shell-sourced file may say `export NAME=value`; the name is what follows.
            if line.hasPrefix("export ") { line = line.dropFirst("export ".count).trimmingCharacters(in: .whitespaces) }
            // A line that sets nothing is a typo that would otherwise pass unnoticed.
            guard let eq = line.firstIndex(of: "=") else {
                throw ValidationError("the config file \(path) (GEOREP_CONFIG), line \(number + 1): expected NAME=value, not \"\(line.prefix(60))\"")
            }
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == value.last, first == "\"" || first == "'" { value = String(value.dropFirst().dropLast()) }
            values[line[..<eq].trimmingCharacters(in: .whitespaces)] = value
        }
        return values
    }
}
