/// What an operator still does by hand after `create push-pem` of a non-root (mountbroker)
/// session: gluster leaves the primary pool's keys in the account's home on the secondary, and
/// only root on a secondary node may install them into the account's `authorized_keys`
/// (`set_geo_rep_pem_keys.sh`). Until then a started session's workers cannot log in and go Faulty.
public enum NonRootSetup {
    /// The step for `ref`, or nil for a root session (push-pem installed the keys itself).
    public static func keysStep(for ref: SessionRef) -> String? {
        guard let user = ref.secondaryUser else { return nil }
        return "non-root session: before starting it, run as root on a node of the secondary pool (\(ref.secondaryHost)): "
            + "set_geo_rep_pem_keys.sh \(user) \(ref.primaryVolume) \(ref.secondaryVolume) (in glusterfs's libexec directory)"
    }
}
