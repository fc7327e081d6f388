import Foundation
import Hummingbird
import Observability

/// `/health/live` (the process answers), `/health/ready` (its broker and database are reachable:
/// 200, else 503 with what is down; `servers` says which server answers where a probe tells,
/// e.g. whether the API reads from a PostgreSQL primary or standby) and `/metrics` (Prometheus text format). No authentication:
/// they say nothing secret, and probes and scrapers do not carry tokens.
public enum OpsRoutes {
    public static func add<Context: RequestContext>(to router: Router<Context>, health: ServiceHealth) {
        _ = MetricsExport.bootstrap()
        router.get("/health/live") { _, _ -> Response in
            json(.ok, ["status": "live"])
        }
        router.get("/health/ready") { _, _ -> Response in
            let checks = health.snapshot
            let ready = health.isReady
            var body: [String: Any] = ["status": ready ? "ready" : "not ready", "checks": checks.mapValues { $0 ? "up" : "down" }]
            let servers = health.servers
            if !servers.isEmpty { body["servers"] = servers }
            return json(ready ? .ok : .serviceUnavailable, body)
        }
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: MetricsExport.render())))
        }
    }

    static func json(_ status: HTTPResponse.Status, _ object: [String: Any]) -> Response {
        // Cannot fail for the health objects built here (strings, booleans, numbers).
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
