import AMQP
import Foundation
import GeoRepCore
import Gluster
import Logging

/// Turns glustereventsd webhook requests (`gluster-eventsapi webhook-add URL -t TOKEN`) into
/// immediate refreshes: a `GEOREP_*` event becomes a `refresh` command for the session it names,
/// which goes to the session's shard like any command, so its owner reads it back and publishes
/// what changed, without waiting for the next monitor round.
///
/// Register one URL per cluster, `…/webhooks/glusterfs/{cluster}`: the body names volumes and
/// hosts but not the cluster. Repeats (gluster sends GEOREP_FAULTY once per brick and again on
/// every retry) within `debounce` of each other become one refresh.
public struct WebhookReceiver: Sendable {
    /// What the HTTP side answers.
    public struct Reply: Sendable, Equatable {
        public var status: Int
        public var message: String
    }

    let tokens: [[UInt8]]
    let inventory: Inventory
    let publisher: ReconnectingPublisher
    let debounce: Duration
    let recent = RecentRefreshes()
    let logger: Logger

    public init(tokens: [String], inventory: Inventory, publisher: ReconnectingPublisher, debounce: Duration = .seconds(2), logger: Logger) {
        self.tokens = tokens.filter { !$0.isEmpty }.map { Array($0.utf8) }
        self.inventory = inventory
        self.publisher = publisher
        self.debounce = debounce
        self.logger = logger
    }

    /// Handles one request: `authorization` is the header's value, `cluster` the path's.
    public func receive(authorization: String?, cluster: String?, body: [UInt8]) async -> Reply {
        guard authorized(authorization) else { return Reply(status: 401, message: "a valid bearer token is required") }
        guard let cluster = cluster ?? (inventory.clusters.count == 1 ? inventory.clusters[0].id : nil) else {
            return Reply(status: 400, message: "register the webhook as /webhooks/glusterfs/{cluster}: the event does not name its cluster")
        }
        guard inventory.cluster(cluster) != nil else { return Reply(status: 404, message: "cluster \"\(ValidationError.printable(cluster))\" is not in the inventory") }
        // `gluster-eventsapi webhook-test` posts an empty body.
        guard !body.isEmpty else { return Reply(status: 200, message: "webhook reachable") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], let name = object["event"] as? String else {
            return Reply(status: 400, message: "the body is not a glustereventsd event ({\"event\": …, \"message\": {…}})")
        }
        guard name.hasPrefix("GEOREP_") else { return Reply(status: 200, message: "\(name): not a geo-replication event; ignored") }
        guard let ref = Self.session(of: object["message"] as? [String: Any] ?? [:], cluster: cluster) else {
            return Reply(status: 400, message: "\(name) does not name a primary volume and a secondary")
        }
        do { try ref.validate() } catch { return Reply(status: 400, message: error.description) }
        guard await recent.admit(ref.key, window: debounce) else {
            return Reply(status: 200, message: "\(name) for \(ref): a refresh is already on its way")
        }
        let command = Command(action: .refresh, session: ref, sender: "glustereventsd")
        do {
            try await publisher.send(command)
        } catch {
            await recent.forget(ref.key)
            logger.warning("cannot publish a refresh for a webhook event", metadata: ["event": "\(name)", "error": "\(error)"])
            return Reply(status: 503, message: "the broker is unavailable; the next monitor round will see the change")
        }
        logger.info("webhook event: refresh requested", metadata: [
            "event": "\(name)", "session": "\(ref.key)", "command_id": "\(command.commandId.uuidString.lowercased())",
        ])
        return Reply(status: 202, message: "\(name) for \(ref): refresh \(command.commandId.uuidString.lowercased()) sent")
    }

    /// The session an event's message names, in either generation's words
    /// (`primary`/`secondary`, `master`/`slave`, or the per-brick `*_volume`/`*_host` fields).
    static func session(of message: [String: Any], cluster: String) -> SessionRef? {
        func text(_ keys: String...) -> String? { keys.lazy.compactMap { message[$0] as? String }.first }
        guard let primary = text("primary", "master", "primary_volume", "master_volume") else { return nil }
        if let secondary = text("secondary", "slave"), let spec = SessionRef.parseSecondary(secondary) {
            return SessionRef(cluster: cluster, primaryVolume: primary, secondaryHost: spec.host, secondaryVolume: spec.volume,
                              secondaryUser: spec.user)
        }
        guard let host = text("secondary_host", "slave_host"), let volume = text("secondary_volume", "slave_volume") else { return nil }
        var user: String?
        var hostName = host
        if let at = host.firstIndex(of: "@") {
            user = String(host[..<at])
            hostName = String(host[host.index(after: at)...])
        }
        return SessionRef(cluster: cluster, primaryVolume: primary, secondaryHost: hostName, secondaryVolume: volume, secondaryUser: user)
    }

    /// `Bearer TOKEN` against every configured token, in time independent of where they differ.
    func authorized(_ header: String?) -> Bool {
        guard !tokens.isEmpty, let header, header.lowercased().hasPrefix("bearer ") else { return false }
        let presented = Array(header.dropFirst("bearer ".count).utf8)
        var match = false
        for token in tokens { match = ConstantTime.equal(presented, token) || match }
        return match
    }
}

/// Sessions refreshed lately, to fold a burst of events into one refresh.
actor RecentRefreshes {
    private var last: [String: ContinuousClock.Instant] = [:]

    func admit(_ key: String, window: Duration) -> Bool {
        let now = ContinuousClock.now
        if let at = last[key], now - at < window { return false }
        last = last.filter { now - $0.value < window }
        last[key] = now
        return true
    }

    func forget(_ key: String) { last.removeValue(forKey: key) }
}
