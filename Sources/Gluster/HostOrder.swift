import Synchronization

/// The order in which a cluster's hosts are asked: the inventory's, except that a host that
/// did not answer lately goes last for ``demoteFor``.
///
/// Exists for the multi-node lab's unplugged node (issue 17): p1 first in the inventory and off
/// the network made every call of every monitor round wait for p1's ssh (the control master's
/// keep-alives, or its connect timeout) before p2 was asked. Once the time is up the host is
/// asked first again, so a node that came back is preferred again within `demoteFor`.
public final class HostOrder: Sendable {
    /// How long a host that did not answer is asked last.
    public let demoteFor: Duration
    /// cluster → host → when it last failed to answer (at most one entry per inventory host:
    /// an old one is overwritten or removed, never piles up).
    private let unanswered = Mutex<[String: [String: ContinuousClock.Instant]]>([:])

    public init(demoteFor: Duration = .seconds(60)) {
        self.demoteFor = demoteFor
    }

    /// `hosts` in the order to ask them now (a stable partition: answering hosts first).
    public func order<Host>(_ cluster: String, _ hosts: [Host], name: (Host) -> String,
                            now: ContinuousClock.Instant = .now) -> [Host] {
        let last = demoted(cluster, now: now)
        guard !last.isEmpty else { return hosts }
        return hosts.filter { !last.contains(name($0)) } + hosts.filter { last.contains(name($0)) }
    }

    /// `host` could not be reached or did not answer in time.
    public func markUnanswered(_ cluster: String, host: String, now: ContinuousClock.Instant = .now) {
        unanswered.withLock { $0[cluster, default: [:]][host] = now }
    }

    /// `host` answered: it takes its inventory place again.
    public func markAnswered(_ cluster: String, host: String) {
        unanswered.withLock { all in
            all[cluster]?.removeValue(forKey: host)
            if all[cluster]?.isEmpty == true { all[cluster] = nil }
        }
    }

    /// The hosts of `cluster` asked last now.
    public func demoted(_ cluster: String, now: ContinuousClock.Instant = .now) -> Set<String> {
        unanswered.withLock { Set(($0[cluster] ?? [:]).filter { now - $0.value < demoteFor }.keys) }
    }
}
