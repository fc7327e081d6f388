import Foundation

/// Where and how to connect, from an `amqp://` or `amqps://` URL (RabbitMQ's URI spec):
/// `amqps://user:password@host:5671/vhost?heartbeat=30&cacertfile=/ca.pem&certfile=/c.pem&keyfile=/k.pem`,
/// or a comma-separated list of such URLs, one per node of a RabbitMQ cluster, alike but for
/// host and port: a connection goes to the first node that answers, and after a loss to the next.
public struct AMQPConfiguration: Sendable, Equatable {
    /// The first node's host and port.
    public var host: String
    public var port: Int
    /// Every node, in the order given; one for a single URL.
    public var nodes: [Node]
    public var user: String
    public var password: String
    public var vhost: String
    /// Seconds; 0 disables heartbeats.
    public var heartbeat: Int
    public var tls: TLS?
    /// Seconds to wait for a TCP connect, the login and each RPC.
    public var timeout: Int

    public struct TLS: Sendable, Equatable {
        /// CA bundle the broker's certificate must chain to (peer and host name are verified).
        public var caCertificateFile: String?
        public var certificateFile: String?
        public var keyFile: String?
    }

    /// One node of the cluster.
    public struct Node: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var description: String { "\(host):\(port)" }
    }

    public init(url: String) throws(AMQPError) {
        let urls = url.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = urls.first, !first.isEmpty else { throw .invalidURL("no URL given") }
        try self.init(single: first)
        for other in urls.dropFirst() {
            let next = try AMQPConfiguration(single: other)
            var alike = next
            (alike.host, alike.port, alike.nodes) = (host, port, nodes)
            guard alike == self else {
                throw .invalidURL("the URLs of a cluster must differ only in host and port (scheme, user, password, vhost, "
                                  + "and query alike): \(next.redacted) vs \(redacted)")
            }
            nodes += next.nodes
        }
    }

    private init(single url: String) throws(AMQPError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme else {
            throw .invalidURL("cannot parse \"\(url.prefix(100))\"")
        }
        guard scheme == "amqp" || scheme == "amqps" else { throw .invalidURL("scheme must be amqp or amqps, not \(scheme)") }
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        port = components.port ?? (scheme == "amqps" ? 5671 : 5672)
        nodes = [Node(host: host, port: port)]
        user = components.user?.removingPercentEncoding ?? "guest"
        password = components.password?.removingPercentEncoding ?? "guest"
        let path = components.percentEncodedPath
        vhost = path.isEmpty || path == "/" ? "/" : String(path.dropFirst()).removingPercentEncoding ?? "/"
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        heartbeat = Int(query["heartbeat"] ?? "") ?? 30
        timeout = Int(query["connection_timeout"] ?? "").map { max(1, $0 / 1000) } ?? 10
        tls = scheme == "amqps"
            ? TLS(caCertificateFile: query["cacertfile"], certificateFile: query["certfile"], keyFile: query["keyfile"])
            : nil
    }

    /// The URL without its password, for logs.
    public var redacted: String {
        "\(tls == nil ? "amqp" : "amqps")://\(user):***@\(nodes.map(\.description).joined(separator: ","))/\(vhost == "/" ? "" : vhost)"
    }
}
