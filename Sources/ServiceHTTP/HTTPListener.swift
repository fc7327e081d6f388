/// Where a process's HTTP server listens: `host:port` (env `GEOREP_HTTP`, e.g. `127.0.0.1:9810`).
public struct HTTPListener: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, `:port` (all interfaces) or `port` (loopback).
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            guard let port = Int(parts[0]), (0...65535).contains(port) else { return nil }
            self.init(host: "127.0.0.1", port: port)
        case 2:
            guard let port = Int(parts[1]), (0...65535).contains(port) else { return nil }
            self.init(host: parts[0].isEmpty ? "0.0.0.0" : String(parts[0]), port: port)
        default:
            return nil
        }
    }

    public var description: String { "\(host):\(port)" }
}
