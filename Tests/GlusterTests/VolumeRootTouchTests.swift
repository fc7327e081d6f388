import GeoRepCore
@testable import Gluster
import Testing

/// The touch after a checkpoint: argument vectors only, a mount point of its own per touch, and
/// a mount client StuckProcessScan does not take for gverify's.
@Suite struct VolumeRootTouchTests {
    @Test func stepsAreExactVectorsOnAMountPointOfTheirOwn() throws {
        let touch = try VolumeRootTouch(volume: "mvol", nonce: "abc123")
        #expect(touch.mountPoint == "/run/georep-touch/mvol-abc123")
        #expect(touch.mount == ["glusterfs", "--volfile-server", "localhost", "--volfile-id", "mvol",
                                "-l", "/var/log/glusterfs/georep-touch-mvol.log", "/run/georep-touch/mvol-abc123"])
        #expect(touch.checkMounted == ["mountpoint", "-q", "/run/georep-touch/mvol-abc123"])
        #expect(touch.touch == ["touch", "/run/georep-touch/mvol-abc123"])
        #expect(touch.unmount == ["umount", "/run/georep-touch/mvol-abc123"])
        #expect(try VolumeRootTouch(volume: "mvol").mountPoint != VolumeRootTouch(volume: "mvol").mountPoint)
        // Its client runs for a second; if it ever hangs it is no wedge suspect of ours.
        #expect(StuckProcessScan.kind(of: "/usr/sbin/" + touch.mount.joined(separator: " ")) == nil)
    }

    @Test(arguments: ["vol;touch /tmp/x", "--help", "../etc", "a/b", "$(id)", ""])
    func hostileVolumeNamesNeverBecomeArguments(name: String) {
        #expect(throws: ValidationError.self) { try VolumeRootTouch(volume: name) }
    }
}
