import Foundation

/// Name-based (version 5) UUIDs, so that every process derives the same id for the same
/// session or brick without asking anyone: the worker that observes a session and the
/// persister and API that store and serve it agree by construction.
public enum StableID {
    /// The namespace of every id this service derives.
    public static let namespace = UUID(uuidString: "3a0b7e52-9c1d-4d7e-8f25-6b1f0c9e2a47")!

    public static func uuid(name: String, namespace: UUID = StableID.namespace) -> UUID {
        let ns = namespace.uuid
        let nsBytes: [UInt8] = [
            ns.0, ns.1, ns.2, ns.3, ns.4, ns.5, ns.6, ns.7,
            ns.8, ns.9, ns.10, ns.11, ns.12, ns.13, ns.14, ns.15,
        ]
        var d = SHA1.hash(nsBytes + Array(name.utf8))
        d[6] = (d[6] & 0x0F) | 0x50
        d[8] = (d[8] & 0x3F) | 0x80
        return UUID(uuid: (d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7],
                           d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15]))
    }

    /// The id of a brick: the primary volume's gluster UUID and the brick's `host:path`.
    public static func brick(volumeID: String, host: String, path: String) -> UUID {
        uuid(name: "brick:\(volumeID.lowercased()):\(host.lowercased()):\(path)")
    }
}
