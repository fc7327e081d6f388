import Metrics
import Prometheus

/// The process's metrics registry: swift-metrics bootstrapped once with a Prometheus backend.
public enum MetricsExport {
    private static let shared: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // gluster calls take 50 ms to minutes; commands seconds.
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(120),
        ]
        // A worker's own share of a command: targets are 5 ms at p50 and 20 ms at p99.
        factory.durationHistogramBuckets["georep_command_overhead_seconds"] = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(50),
            .milliseconds(100), .milliseconds(500),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// Bootstraps swift-metrics (the first call does) and returns the registry to export.
    public static func bootstrap() -> PrometheusCollectorRegistry { shared }

    /// The Prometheus text exposition of every metric.
    public static func render() -> String { shared.emitToString() }
}
