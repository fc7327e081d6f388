/// A geo-replication config option as gsyncd knows it, and what changing it can do.
///
/// gsyncd runs some of its options: `ssh-command`, `rsync-command`, `tar-command`,
/// `remote-gsyncd` are programs; `ssh-options`, `rsync-options`, `gluster-params`, … become
/// arguments of ssh, rsync and the glusterfs mount; `gluster-command-dir` names where the gluster
/// binaries come from. Whoever may set them runs programs as root on every primary node, so the
/// service sorts every option gsyncd has into a ``Kind`` and lets only an admin grant
/// (``OptionGrant``) change the kinds that reach beyond tuning. A name not in ``all`` is refused:
/// nothing is guessed from how it looks.
///
/// The table holds GlusterFS 10.x's names (`/etc/glusterfs/gsyncd.conf`) and the spellings of
/// GlusterFS 7.x and earlier (`master-*`, `slave-*`, `isolated-slaves`, `timeout`,
/// `use-tarssh`, …) as aliases. gluster itself accepts `_` for `-`, and so does ``named(_:)``.
public struct GeoRepOption: Sendable, Hashable {
    /// What setting (or resetting) an option can do, which decides who may.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// How fast, how much and what to sync, and what to log: the write role may change it.
        case tuning
        /// A program gsyncd runs, where it finds programs, or arguments it hands them: admin only.
        case executing
        /// Where gsyncd keeps its state and what it names it after: admin only (a wrong directory or
        /// pattern writes where it must not, or loses track of what was synced).
        case path
        /// Whom gsyncd lets in or leaves out: admin only.
        case access
        /// gsyncd (or glusterd) refuses to change it, whoever asks: the service refuses it first.
        case fixed

        /// Whether changing an option of this kind needs the admin grant.
        public var needsGrant: Bool { self == .executing || self == .path || self == .access }
    }

    /// What an option's value is, for the checks beyond ``Validate/configValue(_:field:leadingDash:)``.
    public enum ValueForm: Sendable, Hashable {
        /// Text gsyncd reads as a number, a flag, a level or a name.
        case text
        /// A program and, for some, its arguments: `ssh -4`, `/usr/bin/rsync`.
        case program
        /// An absolute directory: `/usr/sbin`.
        case directory
        /// Arguments handed to a program, split on spaces: `-oPasswordAuthentication=no -i /key`.
        case arguments
    }

    /// GlusterFS 10.x's name, with `-`.
    public let name: String
    public let kind: Kind
    public let form: ValueForm
    /// Other spellings gluster knows for the same option (GlusterFS 7.x and earlier).
    public let aliases: [String]

    /// `older`: spellings beyond the one every option has whose name says primary or secondary:
    /// the same name with `master` and `slave`, as GlusterFS 7.x and earlier spelled it.
    init(_ name: String, _ kind: Kind, _ form: ValueForm = .text, older: [String] = []) {
        self.name = name
        self.kind = kind
        self.form = form
        let renamed = name.replacingOccurrences(of: "primary", with: "master").replacingOccurrences(of: "secondary", with: "slave")
        self.aliases = (renamed == name ? [] : [renamed]) + older
    }

    /// The option `key` names (`_` or `-`, any spelling in ``all``); nil for a name gsyncd does not have.
    public static func named(_ key: String) -> GeoRepOption? {
        byName[key.replacingOccurrences(of: "_", with: "-")]
    }

    /// The option `key` names, when it is one that may be changed at all (by someone).
    public static func changeable(_ key: String, field: String) throws(ValidationError) -> GeoRepOption {
        guard let option = named(key) else {
            throw ValidationError(field: field, value: key,
                                  reason: "not a geo-replication option gsyncd knows; `gluster volume geo-replication PRIMARY SECONDARY config` lists them")
        }
        guard option.kind != .fixed else {
            throw ValidationError(field: field, value: key, reason: "gsyncd does not let this option be changed (configurable=false, or reserved by glusterd)")
        }
        return option
    }

    /// Checks a value for this option: every value as ``Validate/configValue(_:field:leadingDash:)``, except
    /// that arguments may start with `-` (ssh's own default, `-oPasswordAuthentication=no …`,
    /// does; gluster passes a `config` value through without reading options from it); a program
    /// has a program first, a directory is absolute.
    public func validate(_ value: String, field: String) throws(ValidationError) {
        try Validate.configValue(value, field: field, leadingDash: form == .arguments)
        guard form != .text else { return }
        let words = value.split(separator: " ", omittingEmptySubsequences: true)
        switch form {
        case .program:
            guard let program = words.first else {
                throw ValidationError(field: field, value: value, reason: "\(name) names a program; it may not be empty")
            }
            guard program.first != "-" else {
                throw ValidationError(field: field, value: value, reason: "\(name) starts with a program, not an option")
            }
        case .directory:
            guard value.first == "/", words.count == 1 else {
                throw ValidationError(field: field, value: value, reason: "\(name) is an absolute directory without spaces, e.g. /usr/sbin")
            }
        case .arguments, .text:
            break
        }
    }

    private static let byName: [String: GeoRepOption] = {
        var table: [String: GeoRepOption] = [:]
        for option in all {
            for name in [option.name] + option.aliases {
                precondition(table[name] == nil, "\(name) is in GeoRepOption.all twice")
                table[name] = option
            }
        }
        return table
    }()

    /// Every option of gsyncd.conf (GlusterFS 10.3, in its order), the names GlusterFS 7.x used
    /// for them (master and slave for primary and secondary, which the initializer spells), and
    /// the older names glusterd and gsyncd still recognise.
    public static let all: [GeoRepOption] = [
        // Filled in by gsyncd from the volumes; configurable=false.
        GeoRepOption("primary-bricks", .fixed),
        GeoRepOption("secondary-bricks", .fixed),
        GeoRepOption("primary-volume-id", .fixed),
        GeoRepOption("secondary-volume-id", .fixed),
        GeoRepOption("primary-replica-count", .fixed),
        GeoRepOption("primary-disperse-count", .fixed),
        GeoRepOption("primary-distribution-count", .fixed),
        // Directories every other path is made of.
        GeoRepOption("glusterd-workdir", .path),
        GeoRepOption("gluster-logdir", .path),
        GeoRepOption("gluster-rundir", .path),
        GeoRepOption("gsyncd-miscdir", .path),
        // The extended attribute gsyncd keeps the sync time in (gsyncd sets it itself).
        GeoRepOption("stime-xattr-prefix", .path),
        GeoRepOption("checkpoint", .tuning),
        // Split into arguments of every gluster CLI call gsyncd makes.
        GeoRepOption("gluster-cli-options", .executing, .arguments),
        // configurable=false templates of where gsyncd writes.
        GeoRepOption("pid-file", .fixed),
        GeoRepOption("state-file", .fixed),
        GeoRepOption("georep-session-working-dir", .fixed),
        GeoRepOption("access-mount", .tuning),
        GeoRepOption("secondary-access-mount", .tuning),
        // Unused by GlusterFS 10's gsyncd; kept from the days it chose peers.
        GeoRepOption("isolated-secondarys", .access),
        GeoRepOption("changelog-batch-size", .tuning),
        // `timeout` is the name before GlusterFS 4 (gsyncd's config upgrade renames it).
        GeoRepOption("secondary-timeout", .tuning, older: ["timeout"]),
        GeoRepOption("connection-timeout", .tuning),
        GeoRepOption("replica-failover-interval", .tuning),
        // A strftime pattern that names the changelog archive files.
        GeoRepOption("changelog-archive-format", .path),
        GeoRepOption("use-meta-volume", .tuning),
        GeoRepOption("meta-volume-mnt", .path),
        GeoRepOption("allow-network", .access),
        GeoRepOption("change-interval", .tuning),
        GeoRepOption("sync-method", .tuning),
        // Before GlusterFS 4: `use-tarssh true` is `sync-method tarssh`.
        GeoRepOption("use-tarssh", .tuning),
        // The gsyncd program ssh runs on the secondary.
        GeoRepOption("remote-gsyncd", .executing, .program),
        GeoRepOption("gluster-command-dir", .executing, .directory),
        GeoRepOption("secondary-gluster-command-dir", .executing, .directory),
        // Each word becomes a `--word` option of the glusterfs mount gsyncd starts as root.
        GeoRepOption("gluster-params", .executing, .arguments),
        GeoRepOption("secondary-gluster-params", .executing, .arguments),
        GeoRepOption("ignore-deletes", .tuning),
        GeoRepOption("special-sync-mode", .tuning),
        GeoRepOption("gfid-conflict-resolution", .tuning),
        GeoRepOption("working-dir", .fixed),
        GeoRepOption("change-detector", .tuning),
        GeoRepOption("cli-log-file", .fixed),
        GeoRepOption("cli-log-level", .tuning),
        GeoRepOption("log-file", .fixed),
        GeoRepOption("changelog-log-file", .fixed),
        GeoRepOption("gluster-log-file", .fixed),
        GeoRepOption("secondary-log-file", .fixed),
        GeoRepOption("secondary-gluster-log-file", .fixed),
        GeoRepOption("secondary-gluster-log-file-mbr", .fixed),
        GeoRepOption("log-level", .tuning),
        GeoRepOption("gluster-log-level", .tuning),
        GeoRepOption("changelog-log-level", .tuning),
        GeoRepOption("secondary-log-level", .tuning),
        GeoRepOption("secondary-gluster-log-level", .tuning),
        // The same port `create ssh-port` takes.
        GeoRepOption("ssh-port", .tuning),
        GeoRepOption("ssh-command", .executing, .program),
        GeoRepOption("tar-command", .executing, .program),
        GeoRepOption("ssh-options", .executing, .arguments),
        GeoRepOption("ssh-options-tar", .executing, .arguments),
        // glusterd reserves it (refuses a change) but gsyncd runs it: executing, whatever glusterd says.
        GeoRepOption("gluster-command", .executing, .program),
        GeoRepOption("sync-jobs", .tuning),
        GeoRepOption("rsync-command", .executing, .program),
        GeoRepOption("rsync-options", .executing, .arguments),
        GeoRepOption("rsync-ssh-options", .executing, .arguments),
        // Flags gsyncd turns into rsync options of its own choosing.
        GeoRepOption("rsync-opt-ignore-missing-args", .tuning),
        GeoRepOption("rsync-opt-existing", .tuning),
        GeoRepOption("log-rsync-performance", .tuning),
        GeoRepOption("use-rsync-xattrs", .tuning),
        GeoRepOption("sync-xattrs", .tuning),
        GeoRepOption("sync-acls", .tuning),
        GeoRepOption("max-rsync-retries", .tuning),
        // Names glusterd reserves (glusterd-geo-rep.c's gsync_reserved_opts), and GlusterFS 3.x's.
        GeoRepOption("state-socket-unencoded", .fixed),
        GeoRepOption("session-owner", .fixed),
        GeoRepOption("socketdir", .fixed),
        GeoRepOption("local-id", .fixed),
        GeoRepOption("local-path", .fixed),
        GeoRepOption("secondary-id", .fixed),
        GeoRepOption("state-detail-file", .fixed),
        // GlusterFS 3.x's ssh program for tar-over-ssh.
        GeoRepOption("ssh-command-tar", .executing, .program),
    ]
}
