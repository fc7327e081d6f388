import Foundation
import GeoRepCore

/// Which gluster hosts serve which cluster, and how to reach them. Read from a JSON file
/// (`GEOREP_INVENTORY`); hosts are tried in order, the next one when a host is unreachable.
///
/// ```json
/// {"clusters": [{"id": "lab", "hosts": [{"name": "vm", "transport": "local"}]}],
///  "ssh": {"user": "root", "identity_file": "/root/.ssh/id_ed25519",
///          "known_hosts_file": "/etc/georep/known_hosts", "port": 22}}
/// ```
public struct Inventory: Codable, Sendable, Equatable {
    public var clusters: [Cluster]
    public var ssh: SSHSettings?

    public struct Cluster: Codable, Sendable, Equatable {
        public var id: String
        public var hosts: [Host]

        public init(id: String, hosts: [Host]) {
            self.id = id
            self.hosts = hosts
        }
    }

    public struct Host: Codable, Sendable, Equatable {
        public enum Transport: String, Codable, Sendable { case local, ssh }
        public var name: String
        public var transport: Transport
        /// Extra environment of a local gluster process as `NAME=value` strings (for example a
        /// wrapper's settings, or the stand-in gluster's state directory in tests); ssh passes none.
        /// (A list, not an object: JSON key conversion would mangle the names.)
        public var environment: [String]?
        /// The gluster program on this host when it is not the worker's (`GEOREP_GLUSTER`), e.g.
        /// another install path, or the stand-in gluster for a test cluster.
        public var gluster: String?

        public init(name: String, transport: Transport, environment: [String]? = nil, gluster: String? = nil) {
            self.name = name
            self.transport = transport
            self.environment = environment
            self.gluster = gluster
        }

        /// ``environment`` as a dictionary.
        public var environmentVariables: [String: String] {
            Dictionary((environment ?? []).compactMap { entry -> (String, String)? in
                guard let eq = entry.firstIndex(of: "=") else { return nil }
                return (String(entry[..<eq]), String(entry[entry.index(after: eq)...]))
            }, uniquingKeysWith: { $1 })
        }
    }

    public init(clusters: [Cluster], ssh: SSHSettings? = nil) {
        self.clusters = clusters
        self.ssh = ssh
    }

    public func cluster(_ id: String) -> Cluster? { clusters.first { $0.id == id } }

    /// Reads and checks an inventory file; every host name and cluster id is validated.
    public static func load(path: String) throws -> Inventory {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw InventoryError(path: path, reason: "cannot be read (\(error.localizedDescription)); set GEOREP_INVENTORY to the inventory JSON file")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let inventory: Inventory
        do { inventory = try decoder.decode(Inventory.self, from: data) } catch {
            throw InventoryError(path: path, reason: "is not a valid inventory: \(error)")
        }
        for cluster in inventory.clusters {
            do {
                try Validate.clusterID(cluster.id, field: "clusters.id")
                for host in cluster.hosts { try Validate.hostName(host.name, field: "clusters.hosts.name") }
                if let user = inventory.ssh?.user { try Validate.userName(user, field: "ssh.user") }
            } catch { throw InventoryError(path: path, reason: error.description) }
        }
        return inventory
    }
}

/// How ssh reaches gluster hosts: strict host-key checking against an operator-provided
/// known_hosts file, keys only, and one reused connection per host.
public struct SSHSettings: Codable, Sendable, Equatable {
    public var user: String?
    public var identityFile: String?
    public var knownHostsFile: String?
    public var port: Int?
    /// Seconds to wait for the TCP/ssh handshake.
    public var connectTimeout: Int?
    /// Where ControlMaster sockets live.
    public var controlDirectory: String?
    /// Reuse one ssh connection per host (ControlMaster); default true.
    public var reuseConnections: Bool?

    public init(user: String? = nil, identityFile: String? = nil, knownHostsFile: String? = nil, port: Int? = nil,
                connectTimeout: Int? = nil, controlDirectory: String? = nil, reuseConnections: Bool? = nil) {
        self.user = user
        self.identityFile = identityFile
        self.knownHostsFile = knownHostsFile
        self.port = port
        self.connectTimeout = connectTimeout
        self.controlDirectory = controlDirectory
        self.reuseConnections = reuseConnections
    }
}

public struct InventoryError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "inventory \(path) \(reason)" }
}
