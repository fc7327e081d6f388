import AMQP
import Foundation
import GeoRepCore
import Gluster
import Logging
import Observability

/// Turns glustereventsd webhook requests (`gluster-eventsapi webhook-add URL -t TOKEN`) into
/// immediate refreshes: a `GEOREP_*` event becomes a `refresh` command for the session it names,
/// which goes to the cluster's shard like any command, so its owner reads it back and publishes
/// what changed, without waiting for the next monitor round.
///
/// Register one URL per cluster, `…/webhooks/glusterfs/{cluster}`: the body names volumes and
/// hosts but not the cluster. Events for one session within `debounce` of a refresh (gluster
/// sends GEOREP_FAULTY once per brick, and again on every retry) become one more refresh at the
/// window's end, never none: on the multi-node lab p2's GEOREP_FAULTY came 0.3 s after p1's,
/// and a refresh for p1's alone saw the session half Faulty, with nothing after it to see the rest.
///
/// glustereventsd posts every event to every registered worker. The refresh's command id is
/// derived from the event itself (``refreshID(event:message:nodeID:timestamp:cluster:)``), so the
/// copies every worker sends of one event are one command to the cluster's owner, which runs it
/// once and answers the others from its journal.
public struct WebhookReceiver: Sendable {
    /// What became of a request; the HTTP side turns it into a status code.
    public enum Outcome: Sendable, Equatable {
        /// A refresh command was sent (its id).
        case refreshSent(String)
        /// A refresh will be sent when the session's debounce window ends (its id).
        case refreshScheduled(String)
        /// A refresh for the same session is already on its way (a burst of events).
        case alreadyOnItsWay
        /// Nothing to do: `webhook-test`'s empty body, or an event that is not about geo-replication.
        case noted
        case unauthorized
        case unknownCluster
        case badRequest
        /// The broker could not take the refresh; the next monitor round sees the change.
        case brokerUnavailable
    }

    /// What the HTTP side answers: the outcome and a line for the caller.
    public struct Reply: Sendable, Equatable {
        public var outcome: Outcome
        public var message: String
    }

    let tokens: BearerTokens<Void>
    let inventory: Inventory
    let publisher: ReconnectingPublisher
    let debounce: Duration
    let recent = RecentRefreshes()
    let logger: Logger

    public init(tokens: [String], inventory: Inventory, publisher: ReconnectingPublisher, debounce: Duration = .seconds(1), logger: Logger) {
        self.tokens = BearerTokens(tokens.map { ($0, ()) })
        self.inventory = inventory
        self.publisher = publisher
        self.debounce = debounce
        self.logger = logger
    }

    /// Handles one request: `authorization` is the header's value, `cluster` the path's.
    public func receive(authorization: String?, cluster: String?, body: [UInt8]) async -> Reply {
        guard authorized(authorization) else { return Reply(outcome: .unauthorized, message: "a valid bearer token is required") }
        guard let cluster = cluster ?? (inventory.clusters.count == 1 ? inventory.clusters[0].id : nil) else {
            return Reply(outcome: .badRequest, message: "register the webhook as /webhooks/glusterfs/{cluster}: the event does not name its cluster")
        }
        guard inventory.cluster(cluster) != nil else { return Reply(outcome: .unknownCluster, message: "cluster \"\(ValidationError.printable(cluster))\" is not in the inventory") }
        // `gluster-eventsapi webhook-test` posts an empty body.
        guard !body.isEmpty else { return Reply(outcome: .noted, message: "webhook reachable") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], let name = object["event"] as? String else {
            return Reply(outcome: .badRequest, message: "the body is not a glustereventsd event ({\"event\": …, \"message\": {…}})")
        }
        guard name.hasPrefix("GEOREP_") else { return Reply(outcome: .noted, message: "\(name): not a geo-replication event; ignored") }
        guard let ref = Self.session(of: object["message"] as? [String: Any] ?? [:], cluster: cluster) else {
            return Reply(outcome: .badRequest, message: "\(name) does not name a primary volume and a secondary")
        }
        do { try ref.validate() } catch { return Reply(outcome: .badRequest, message: error.description) }
        let id = Self.refreshID(event: name, message: object["message"] as? [String: Any] ?? [:], nodeID: object["nodeid"] as? String,
                                timestamp: (object["ts"] as? NSNumber)?.int64Value, cluster: cluster) ?? UUID()
        // Only a config event can have changed the options; the rest need the status alone.
        let command = Command(commandId: id, action: .refresh, session: ref,
                              options: CommandOptions(statusOnly: name.hasPrefix("GEOREP_CONFIG") ? nil : true), sender: "glustereventsd")
        let commandID = id.uuidString.lowercased()
        switch await recent.admit(ref.key, window: debounce) {
        case .alreadyScheduled:
            return Reply(outcome: .alreadyOnItsWay, message: "\(name) for \(ref): a refresh is already on its way")
        case .after(let delay):
            let receiver = self
            Task {
                try? await Task.sleep(for: delay)
                await receiver.recent.fired(ref.key)
                _ = await receiver.send(command, event: name)
            }
            return Reply(outcome: .refreshScheduled(commandID), message: "\(name) for \(ref): refresh \(commandID) at the end of the debounce window")
        case .now:
            guard await send(command, event: name) else {
                await recent.forget(ref.key)
                return Reply(outcome: .brokerUnavailable, message: "the broker is unavailable; the next monitor round will see the change")
            }
            return Reply(outcome: .refreshSent(commandID), message: "\(name) for \(ref): refresh \(commandID) sent")
        }
    }

    /// Publishes one refresh; false (logged and counted) when the broker did not take it.
    private func send(_ command: Command, event name: String) async -> Bool {
        do {
            try await publisher.send(command)
        } catch {
            logger.warning("cannot publish a refresh for a webhook event", metadata: ["event": "\(name)", "error": "\(error)"])
            GeoRepMetrics.dropped(reason: "webhook_refresh_unpublished", role: "worker")
            return false
        }
        logger.info("webhook event: refresh requested", metadata: [
            "event": "\(name)", "session": "\(command.session.key)", "command_id": "\(command.commandId.uuidString.lowercased())",
        ])
        return true
    }

    /// The same id for the same event, whichever worker it was posted to: the node that sent it,
    /// its time, its name and its message. Nil when the event lacks a node or a time (then no
    /// two copies can be told to be one).
    static func refreshID(event: String, message: [String: Any], nodeID: String?, timestamp: Int64?, cluster: String) -> UUID? {
        guard let nodeID, let timestamp else { return nil }
        let fields = message.keys.sorted().map { "\($0)=\(message[$0].map { "\($0)" } ?? "")" }.joined(separator: "\u{1F}")
        return StableID.uuid(name: "webhook:\(cluster):\(nodeID.lowercased()):\(timestamp):\(event):\(fields)")
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

    /// `Bearer TOKEN` against every configured token (``BearerTokens``).
    func authorized(_ header: String?) -> Bool { !tokens.grants(forHeader: header).isEmpty }
}

/// Sessions refreshed lately, to fold a burst of events into a refresh at once and at most one
/// more at the end of the window.
actor RecentRefreshes {
    enum Admission: Equatable {
        /// Refresh now.
        case now
        /// Refresh after this long (the window's end); nothing else is scheduled for the session.
        case after(Duration)
        /// A refresh at the window's end is scheduled already: it will see this event's change too.
        case alreadyScheduled
    }

    /// When each session's last refresh was (or its scheduled one will be) sent.
    private var last: [String: ContinuousClock.Instant] = [:]
    private var scheduled: Set<String> = []

    func admit(_ key: String, window: Duration, now: ContinuousClock.Instant = .now) -> Admission {
        if scheduled.contains(key) { return .alreadyScheduled }
        if let at = last[key], now - at < window {
            scheduled.insert(key)
            last[key] = at + window
            return .after(at + window - now)
        }
        last = last.filter { now - $0.value < window }
        last[key] = now
        return .now
    }

    /// The scheduled refresh of `key` is going out.
    func fired(_ key: String) { scheduled.remove(key) }

    func forget(_ key: String) { last.removeValue(forKey: key) }
}
