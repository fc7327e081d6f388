import Metrics

/// The names and labels of every metric the service reports (Prometheus names when exported),
/// in one place so that dashboards and alert rules (`ops/prometheus/`) can rely on them.
public enum GeoRepMetrics {
    /// Commands handled, by `action` and `outcome` (succeeded, failed, rejected, duplicate, retried).
    public static func command(action: String, outcome: String) {
        Counter(label: "georep_commands_total", dimensions: [("action", action), ("outcome", outcome)]).increment()
    }

    /// One gluster CLI call's duration, by operation (`status`, `start`, …) and transport.
    public static func glusterCall(operation: String, transport: String, seconds: Double) {
        Timer(label: "georep_gluster_cli_seconds", dimensions: [("operation", operation), ("transport", transport)])
            .recordNanoseconds(Int64(seconds * 1e9))
    }

    /// A worker's own time per command: from taking the delivery to acking it, less the time its
    /// gluster processes took.
    public static func commandOverhead(seconds: Double) {
        Timer(label: "georep_command_overhead_seconds").recordNanoseconds(Int64(seconds * 1e9))
    }

    /// Events published, by CloudEvent type.
    public static func eventsPublished(type: String, count: Int = 1) {
        Counter(label: "georep_events_published_total", dimensions: [("type", type)]).increment(by: count)
    }

    /// Reconnections to a broker or database, by `target` (amqp, postgres) and process `role`.
    public static func reconnect(target: String, role: String) {
        Counter(label: "georep_reconnects_total", dimensions: [("target", target), ("role", role)]).increment()
    }

    /// Events written per persister transaction.
    public static func persisterBatch(size: Int) {
        Recorder(label: "georep_persister_batch_size", aggregate: true).record(size)
    }

    /// Seconds between an event's observation and its commit in PostgreSQL (the oldest of a batch).
    public static func persisterLag(seconds: Double) {
        Gauge(label: "georep_persister_lag_seconds").record(seconds)
    }

    /// Events sent to the dead-letter queue, by `code` and `role`.
    public static func deadLettered(code: String, role: String) {
        Counter(label: "georep_dead_lettered_total", dimensions: [("code", code), ("role", role)]).increment()
    }

    /// Sessions by status among those this worker monitors (set every monitor round).
    public static func sessions(status: String, count: Int) {
        Gauge(label: "georep_sessions", dimensions: [("status", status)]).record(count)
    }

    /// 1 while the cluster's glusterd is seen wedged by this worker, else 0.
    public static func clusterWedged(cluster: String, _ wedged: Bool) {
        Gauge(label: "georep_cluster_wedged", dimensions: [("cluster", cluster)]).record(wedged ? 1 : 0)
        if wedged { Counter(label: "georep_cluster_wedges_total", dimensions: [("cluster", cluster)]).increment() }
    }

    /// Operational errors a process dropped on purpose (and logged), by `reason` and `role`.
    public static func dropped(reason: String, role: String) {
        Counter(label: "georep_dropped_total", dimensions: [("reason", reason), ("role", role)]).increment()
    }

    /// Command shards this worker consumes.
    public static func shardsHeld(_ count: Int) {
        Gauge(label: "georep_worker_shards").record(count)
    }

    /// HTTP requests served by the API, by `route` and `status` class.
    public static func httpRequest(route: String, status: Int, seconds: Double) {
        Timer(label: "georep_http_request_seconds", dimensions: [("route", route), ("status", String(status))])
            .recordNanoseconds(Int64(seconds * 1e9))
    }
}
