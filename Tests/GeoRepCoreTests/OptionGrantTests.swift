import Foundation
import GeoRepCore
import Testing

/// The option classes and the grant rule: what the write role may change, what needs the admin
/// grant, and what no one may (``GeoRepOption``, ``OptionGrant``).
@Suite struct OptionGrantTests {
    let ref = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: "vm", secondaryVolume: "svol")

    func set(_ key: String, _ value: String) -> Command {
        Command(action: .configSet, session: ref, options: CommandOptions(key: key, value: value), sender: "test")
    }

    func reset(_ key: String) -> Command {
        Command(action: .configReset, session: ref, options: CommandOptions(key: key), sender: "test")
    }

    /// The options gsyncd runs (commands, their directories, arguments it hands them), by every spelling.
    static let executing = [
        "ssh-command", "ssh_command", "ssh-options", "ssh-options-tar", "rsync-command", "rsync-options", "rsync-ssh-options",
        "tar-command", "gluster-command", "gluster-command-dir", "secondary-gluster-command-dir", "slave-gluster-command-dir",
        "slave_gluster_command_dir", "remote-gsyncd", "remote_gsyncd", "gluster-params", "secondary-gluster-params",
        "slave-gluster-params", "gluster-cli-options", "ssh-command-tar",
    ]

    static let tuning = [
        "sync-jobs", "sync_jobs", "timeout", "slave-timeout", "secondary-timeout", "ignore-deletes", "ignore_deletes", "use-meta-volume",
        "checkpoint", "sync-acls", "sync-xattrs", "log-level", "change-interval", "use-tarssh", "sync-method", "ssh-port",
        "slave-log-level", "gfid-conflict-resolution", "special-sync-mode", "change-detector", "rsync-opt-existing",
    ]

    static let admin = executing + [
        "glusterd-workdir", "gluster-logdir", "gluster-rundir", "gsyncd-miscdir", "meta-volume-mnt", "meta_volume_mnt",
        "changelog-archive-format", "stime-xattr-prefix", "allow-network", "isolated-secondarys", "isolated-slaves",
    ]

    static let fixed = [
        "pid-file", "state-file", "log-file", "working-dir", "primary-bricks", "master-bricks", "slave-volume-id", "master-disperse_count",
        "secondary-gluster-log-file-mbr", "slave-gluster-log-file", "state_socket_unencoded", "session-owner", "slave-id",
    ]

    @Test(arguments: executing)
    func executingOptionsAreExecuting(key: String) throws {
        #expect(GeoRepOption.named(key)?.kind == .executing, "\(key)")
    }

    @Test(arguments: tuning)
    func theWriteRoleTunesWithoutAGrant(key: String) throws {
        let value = key == "checkpoint" ? "now" : "4"
        let command = set(key, value)
        try command.validate()
        #expect(GeoRepOption.named(key)?.kind == .tuning)
        #expect(OptionGrant.decide(command, admin: false, from: .api(role: "write")) == .allow)
        #expect(OptionGrant.decide(command, admin: false, from: .bus(user: nil)) == .allow)
        #expect(OptionGrant.decide(reset(key), admin: false, from: .bus(user: "anyone")) == .allow)
    }

    @Test(arguments: admin)
    func executingPathAndAccessOptionsNeedTheAdminGrantToSetOrReset(key: String) throws {
        let option = try #require(GeoRepOption.named(key))
        #expect(option.kind.needsGrant)
        let value = switch option.form {
        case .directory: "/usr/local/sbin"
        case .program: "/usr/bin/ssh"
        default: "x"
        }
        for command in [set(key, value), reset(key)] {
            try command.validate()
            for source in [OptionGrant.Source.api(role: "write"), .bus(user: "georep-publisher"), .bus(user: nil)] {
                guard case .refuse(let error) = OptionGrant.decide(command, admin: false, from: source) else {
                    Issue.record("\(command.action.rawValue) \(key) allowed without the grant from \(source)")
                    continue
                }
                #expect(error.code == "option_not_allowed")
                #expect(error.message.contains(option.name) && error.message.contains("admin"), "\(error.message)")
                #expect(!error.retryable)
            }
            #expect(OptionGrant.decide(command, admin: true, from: .bus(user: "georep-api")) == .granted(option))
        }
    }

    @Test func aRefusalSaysHowToGetTheGrant() throws {
        guard case .refuse(let api) = OptionGrant.decide(set("ssh-command", "sh -c id"), admin: false, from: .api(role: "write")),
              case .refuse(let bus) = OptionGrant.decide(set("ssh-command", "sh -c id"), admin: false, from: .bus(user: "georep-publisher"))
        else { Issue.record("ssh-command was not refused"); return }
        #expect(api.message.contains("admin role") && api.message.contains("write role"), "\(api.message)")
        #expect(bus.message.contains("GEOREP_AMQP_ADMIN_USERS") && bus.message.contains("georep-publisher"), "\(bus.message)")
    }

    @Test(arguments: fixed)
    func noOneChangesWhatGsyncdKeepsFixed(key: String) {
        #expect(GeoRepOption.named(key)?.kind == .fixed, "\(key)")
        #expect(throws: ValidationError.self) { try set(key, "1").validate() }
        #expect(throws: ValidationError.self) { try reset(key).validate() }
    }

    @Test(arguments: ["frobnicate", "ssh-commands", "sshcommand", "rsync", "gluster", "log", "sync-jobs-x", "slave", "master-volume"])
    func unknownOptionsAreRefusedNotGuessed(key: String) {
        #expect(GeoRepOption.named(key) == nil)
        #expect(throws: ValidationError.self) { try set(key, "1").validate() }
        #expect(throws: ValidationError.self) { try reset(key).validate() }
        // Nothing to grant for a name no one may use: validation has refused it already.
        #expect(OptionGrant.decide(set(key, "1"), admin: false, from: .bus(user: nil)) == .allow)
    }

    @Test func grantedValuesAreStillAnArgumentVector() throws {
        // Programs: something to run first, no control characters.
        for good in ["ssh", "/usr/bin/ssh", "sh -c id", "/opt/ssh wrapper"] { try set("ssh-command", good).validate() }
        for bad in ["", "   ", "-oProxyCommand=id", "ssh\n-v", "ssh\u{0}", "ssh\tx", String(repeating: "s", count: 1025)] {
            #expect(throws: ValidationError.self, "\(bad.debugDescription)") { try set("ssh-command", bad).validate() }
            #expect(throws: ValidationError.self, "\(bad.debugDescription)") { try set("remote-gsyncd", bad).validate() }
        }
        // Arguments may start with a dash (ssh-options' own default does), never hold a control character.
        try set("ssh-options", "-oPasswordAuthentication=no -oStrictHostKeyChecking=yes -i /var/lib/glusterd/geo-replication/secret.pem").validate()
        try set("rsync-options", "--bwlimit=1000").validate()
        try set("gluster-params", "aux-gfid-mount acl").validate()
        #expect(throws: ValidationError.self) { try set("ssh-options", "-o\nProxyCommand=id").validate() }
        // Directories are absolute.
        try set("gluster-command-dir", "/usr/local/sbin").validate()
        for bad in ["usr/sbin", "", "/usr/s bin", "-/x"] {
            #expect(throws: ValidationError.self, "\(bad)") { try set("gluster-command-dir", bad).validate() }
        }
        // Tuning values keep the old rule: no leading dash.
        #expect(throws: ValidationError.self) { try set("sync-jobs", "-4").validate() }
    }

    @Test func theRecordSaysWhoChangedWhat() throws {
        let option = try #require(GeoRepOption.named("ssh_command"))
        let record = OptionGrant.Record(set("ssh_command", "/usr/bin/ssh"), option: option, grantedTo: "georep-api")
        #expect(record == OptionGrant.Record(option: "ssh_command", kind: .executing, value: "/usr/bin/ssh", grantedTo: "georep-api", sender: "test"))
        #expect(OptionGrant.Record(reset("ssh-command"), option: option, grantedTo: "ops").value == nil)
        // It travels in the command's result event.
        let result = CommandResult(commandId: UUID(), action: "config.set", session: ref, outcome: .succeeded, message: "ok", grant: record)
        let decoded = try MessageCodec.decodeEvent(MessageCodec.encode(.commandResult(result), source: "test")).event
        guard case .commandResult(let back) = decoded else { Issue.record("not a result"); return }
        #expect(back.grant == record)
    }

    @Test func thePublisherIsTheBrokersUserAndARetryForwardsIt() {
        #expect(OptionGrant.publisher(userId: nil, ownUser: "georep-worker", forwarded: "georep-api") == nil)
        #expect(OptionGrant.publisher(userId: "", ownUser: "georep-worker", forwarded: nil) == nil)
        #expect(OptionGrant.publisher(userId: "georep-api", ownUser: "georep-worker", forwarded: nil) == "georep-api")
        // Only the worker's own user may forward: a publisher's header is not believed.
        #expect(OptionGrant.publisher(userId: "georep-publisher", ownUser: "georep-worker", forwarded: "georep-api") == "georep-publisher")
        #expect(OptionGrant.publisher(userId: "georep-worker", ownUser: "georep-worker", forwarded: "georep-api") == "georep-api")
        #expect(OptionGrant.publisher(userId: "georep-worker", ownUser: "georep-worker", forwarded: nil) == "georep-worker")
    }

    @Test func everyNameInTheTableIsAValidKeyAndNamesOneOption() throws {
        var seen: Set<String> = []
        for option in GeoRepOption.all {
            for name in [option.name] + option.aliases {
                try Validate.configKey(name, field: "name")
                #expect(!name.contains("_"), "\(name): the table spells names with -")
                #expect(seen.insert(name).inserted, "\(name) twice")
                #expect(GeoRepOption.named(name) == option)
            }
            #expect(option.form == .text || option.kind == .executing, "\(option.name): only executing options have a program form")
        }
        #expect(Set(GeoRepOption.all.map(\.kind)) == Set(GeoRepOption.Kind.allCases))
    }
}
