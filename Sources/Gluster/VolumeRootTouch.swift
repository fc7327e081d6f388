import Foundation
import GeoRepCore

/// A touch of a primary volume's root through a short-lived FUSE mount on a gluster host, as
/// GlusterFS's own `schedule_georep.py` does after it sets a checkpoint.
///
/// Why: a brick's geo-replication worker moves its sync time only when it processes a
/// changelog, and a brick nothing is written to after the checkpoint records none, so its
/// checkpoint never completes. Seen on the lab (2026-11-30): `checkpoint now` right after 20
/// files were written to the distributed mvol — the brick that got the last file completed in
/// 9 s, the other stayed "Checkpoint Completed: No" until something touched it, and a
/// `checkpoint` with `wait` ran out its whole wait. A setattr on the root reaches every brick.
struct VolumeRootTouch: Sendable {
    let volume: String
    /// A directory of its own per touch: two workers may touch one volume at once.
    let mountPoint: String

    init(volume: String, nonce: String = String(UUID().uuidString.prefix(8)).lowercased()) throws(ValidationError) {
        try Validate.volumeName(volume, field: "volume")
        self.volume = volume
        self.mountPoint = "/run/georep-touch/\(volume)-\(nonce)"
    }

    /// Each step's argument vector, in order; no shell anywhere.
    var mount: [String] {
        // The client's own log, beside gluster's: not a gverify mount (StuckProcessScan).
        ["glusterfs", "--volfile-server", "localhost", "--volfile-id", volume,
         "-l", "/var/log/glusterfs/georep-touch-\(volume).log", mountPoint]
    }
    var makeMountPoint: [String] { ["mkdir", "-p", mountPoint] }
    var touch: [String] { ["touch", mountPoint] }
    /// `mountpoint -q`: true (exit 0) only once the FUSE mount is in place, so that the touch
    /// never lands on the empty directory under it.
    var checkMounted: [String] { ["mountpoint", "-q", mountPoint] }
    var unmount: [String] { ["umount", mountPoint] }
    var removeMountPoint: [String] { ["rmdir", mountPoint] }
}
