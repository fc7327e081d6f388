import GeoRepCore
import Gluster
import Logging

/// Reads sessions back from gluster after a command or on a monitor round, and hands the
/// observations to the tracker to turn into events.
struct SessionReader: Sendable {
    let gluster: GlusterExecutor
    let tracker: SessionTracker
    let logger: Logger

    /// One session, after a command: its volume id, `status detail` and `config`.
    func observe(_ ref: SessionRef, cause: Observation.Cause) async -> [Event] {
        do {
            let volumes = try await gluster.volumes(cluster: ref.cluster, volume: ref.primaryVolume)
            let ids = Dictionary(volumes.map { ($0.name, $0.id) }, uniquingKeysWith: { a, _ in a })
            let observed: ObservedSession?
            do {
                observed = try await gluster.statusDetail(cluster: ref.cluster, session: ref, volumeIDs: ids).first
            } catch .sessionNotFound {
                observed = nil
            }
            let options = observed == nil ? nil : try? await gluster.config(ref)
            return await tracker.observe(ref, observed: observed, primaryVolumeId: ids[ref.primaryVolume], options: options,
                                         cause: cause, forceSnapshot: true)
        } catch .volumeNotFound {
            return await tracker.observe(ref, observed: nil, primaryVolumeId: nil, options: nil, cause: cause)
        } catch {
            logger.warning("could not read the session back", metadata: ["session": "\(ref)", "error": "\(error)"])
            return []
        }
    }

    /// Every session of a cluster with one `status detail` call (plus one `volume info`):
    /// changes, new sessions (discovered) and vanished ones (deleted).
    func observeCluster(_ cluster: String, forceSnapshot: Bool) async -> [Event] {
        var ids: [String: String] = [:]
        let observed: [ObservedSession]
        do {
            ids = Dictionary(try await gluster.volumes(cluster: cluster).map { ($0.name, $0.id) }, uniquingKeysWith: { a, _ in a })
            observed = try await gluster.statusDetail(cluster: cluster, volumeIDs: ids)
        } catch .sessionNotFound {
            observed = []  // gluster's answer when no session exists at all
        } catch {
            logger.warning("cannot read cluster status", metadata: ["cluster": "\(cluster)", "error": "\(error)"])
            return await tracker.markUnreachable(cluster: cluster)
        }
        var events: [Event] = []
        var seen = Set<SessionRef>()
        for session in observed {
            let ref = session.ref(cluster: cluster)
            guard (try? ref.validate()) != nil else {
                logger.warning("ignoring a session with names the service does not accept", metadata: ["session": "\(ref)"])
                continue
            }
            seen.insert(ref)
            let isNew = await !tracker.knows(ref.sessionID)
            let options = isNew || forceSnapshot ? try? await gluster.config(ref) : nil
            events += await tracker.observe(ref, observed: session, primaryVolumeId: ids[session.primaryVolume], options: options,
                                            cause: .monitor, forceSnapshot: forceSnapshot || isNew)
        }
        for ref in await tracker.sessions(cluster: cluster) where !seen.contains(ref) {
            events += await tracker.observe(ref, observed: nil, primaryVolumeId: nil, options: nil, cause: .monitor)
        }
        return events
    }
}
