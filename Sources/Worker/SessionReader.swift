import GeoRepCore
import Gluster
import Logging
import Observability

/// Reads sessions back from gluster after a command or on a monitor round, and hands the
/// observations to the tracker to turn into events.
struct SessionReader: Sendable {
    let gluster: GlusterExecutor
    let tracker: SessionTracker
    let logger: Logger
    let volumes = VolumeCache()

    /// One session, after a command: `status detail`, and `config` when the command may have
    /// changed the options (or this worker has not seen the session yet). The volume's id comes
    /// from the volume cache (every monitor round refreshes it), else from `volume info`.
    /// `knownGone`: gluster has just deleted the session; nothing is read.
    func observe(_ ref: SessionRef, cause: Observation.Cause, readOptions: Bool = true, knownGone: Bool = false) async -> [Event] {
        if knownGone {
            let volumeID = await volumes.id(cluster: ref.cluster, volume: ref.primaryVolume)
            return await tracker.observe(ref, observed: nil, primaryVolumeId: volumeID, options: nil, cause: cause)
        }
        do {
            let volume = try await volume(of: ref)
            let volumeID = volume?.id
            let ids = volumeID.map { [ref.primaryVolume: $0] } ?? [:]
            let observed: ObservedSession?
            do {
                observed = try await gluster.statusDetail(cluster: ref.cluster, session: ref, volumeIDs: ids).first
                    .map { session in volume.map { session.completed(with: $0) } ?? session }
            } catch .sessionNotFound {
                observed = nil
            }
            let known = await tracker.knows(ref.sessionID)
            let wantOptions = readOptions || !known
            let options = observed == nil || !wantOptions ? nil : await options(of: ref)
            return await tracker.observe(ref, observed: observed, primaryVolumeId: volumeID, options: options,
                                         cause: cause, forceSnapshot: true)
        } catch .volumeNotFound {
            return await tracker.observe(ref, observed: nil, primaryVolumeId: nil, options: nil, cause: cause)
        } catch {
            // The next monitor round reads it again; until then the stored state stays as it was.
            logger.warning("could not read the session back", metadata: ["session": "\(ref)", "error": "\(error)"])
            GeoRepMetrics.dropped(reason: "session_read_failed", role: "worker")
            return []
        }
    }

    /// The session's options, or nil when they cannot be read now (the snapshot then keeps the
    /// options last stored; the next full snapshot reads them again).
    func options(of ref: SessionRef) async -> [String: String]? {
        do { return try await gluster.config(ref) } catch {
            logger.warning("cannot read the session's options", metadata: ["session": "\(ref)", "error": "\(error)"])
            GeoRepMetrics.dropped(reason: "config_read_failed", role: "worker")
            return nil
        }
    }

    /// A session's primary volume (its id and bricks): cached, or read with `volume info`.
    func volume(of ref: SessionRef) async throws(GlusterError) -> VolumeInfo? {
        if let volume = await volumes.volume(cluster: ref.cluster, name: ref.primaryVolume) { return volume }
        let found = try await gluster.volumes(cluster: ref.cluster, volume: ref.primaryVolume)
        await volumes.remember(cluster: ref.cluster, found, complete: false)
        return found.first { $0.name == ref.primaryVolume }
    }

    /// Every session of a cluster with one `status detail` call (plus one `volume info`):
    /// changes, new sessions (discovered), vanished ones (deleted) and the cluster's inventory.
    ///
    /// gluster answers "no session at all" and "could not read the status" (a lost race for its
    /// cluster lock) with the same words, so an empty answer counts as "none" only when two
    /// rounds in a row give it; a list that simply lacks a session is conclusive at once.
    func observeCluster(_ cluster: String, forceSnapshot: Bool) async -> [Event] {
        let stamp = await tracker.stampBeforeReading()
        let volumes: [VolumeInfo]
        let ids: [String: String]
        let observed: [ObservedSession]
        var conclusive = true
        do {
            volumes = try await gluster.volumes(cluster: cluster)
            await self.volumes.remember(cluster: cluster, volumes, complete: true)
            let byName = Dictionary(volumes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            ids = byName.mapValues(\.id)
            do {
                observed = try await gluster.statusDetail(cluster: cluster, volumeIDs: ids)
                    .map { session in byName[session.primaryVolume].map { session.completed(with: $0) } ?? session }
            } catch .sessionNotFound {
                observed = []
                conclusive = await tracker.emptyAnswer(cluster: cluster) >= 2
            }
        } catch {
            // Not dropped: the tracker turns it into the cluster's unavailability (events).
            logger.warning("cannot read cluster status", metadata: ["cluster": "\(cluster)", "error": "\(error)"])
            return await tracker.markUnreachable(cluster: cluster)
        }
        if !observed.isEmpty { await tracker.clearEmptyAnswers(cluster: cluster) }
        var events: [Event] = []
        var seen = Set<SessionRef>()
        for session in observed {
            let ref = session.ref(cluster: cluster)
            guard (try? ref.validate()) != nil else {
                logger.warning("ignoring a session with names the service does not accept", metadata: ["session": "\(ref)"])
                GeoRepMetrics.dropped(reason: "unacceptable_session_name", role: "worker")
                continue
            }
            seen.insert(ref)
            let isNew = await !tracker.knows(ref.sessionID)
            let options = isNew || forceSnapshot ? await options(of: ref) : nil
            events += await tracker.observe(ref, observed: session, primaryVolumeId: ids[session.primaryVolume], options: options,
                                            cause: .monitor, forceSnapshot: forceSnapshot || isNew)
        }
        if conclusive {
            for ref in await tracker.sessions(cluster: cluster) where !seen.contains(ref) {
                events += await tracker.observe(ref, observed: nil, primaryVolumeId: nil, options: nil, cause: .monitor)
            }
        }
        let inventory = ClusterInventory.Volume.list(volumes)
        let sessionIds = conclusive ? seen.map(\.sessionID).sorted { $0.uuidString < $1.uuidString } : nil
        if let event = await tracker.inventory(cluster: cluster, volumes: inventory, sessionIds: sessionIds, force: forceSnapshot,
                                                   observation: stamp) {
            events.append(event)
        }
        return events
    }
}

extension ClusterInventory.Volume {
    /// The inventory's view of `volume info`, with stable brick ids.
    static func list(_ volumes: [VolumeInfo]) -> [ClusterInventory.Volume] {
        volumes.map { v in
            ClusterInventory.Volume(id: v.id, name: v.name, status: v.status, bricks: v.bricks.map { b in
                ClusterInventory.Brick(id: StableID.brick(volumeID: v.id, host: b.host, path: b.path), host: b.host, path: b.path,
                                       hostUuid: b.hostUuid)
            })
        }
    }
}

/// Each cluster's volumes as the last `volume info` said (ids and bricks). Ids change only when
/// a volume is deleted and made again, and bricks when one is added or removed, which the next
/// monitor round (a full `volume info`) sees.
actor VolumeCache {
    private var volumes: [String: [String: VolumeInfo]] = [:]
    private var readAt: [String: ContinuousClock.Instant] = [:]
    let maximumAge: Duration

    init(maximumAge: Duration = .seconds(300)) { self.maximumAge = maximumAge }

    func volume(cluster: String, name: String) -> VolumeInfo? {
        guard let at = readAt[cluster], ContinuousClock.now - at < maximumAge else { return nil }
        return volumes[cluster]?[name]
    }

    func id(cluster: String, volume: String) -> String? { self.volume(cluster: cluster, name: volume)?.id }

    /// `complete`: the cluster's whole list (volumes missing from it are gone).
    func remember(cluster: String, _ list: [VolumeInfo], complete: Bool) {
        var known = complete ? [:] : volumes[cluster, default: [:]]
        for volume in list { known[volume.name] = volume }
        volumes[cluster] = known
        if complete || readAt[cluster] == nil { readAt[cluster] = .now }
    }
}
