/// Who may change which geo-replication option: the one rule the HTTP API and the workers apply
/// before anything reaches gluster.
///
/// - `config.set` and `config.reset` of a ``GeoRepOption/Kind/tuning`` option need nothing beyond
///   the right to send commands (the API's write role, or any publisher on the bus).
/// - Of an executing, path or access option they need the admin grant: an API token with the
///   admin role; on the bus, a publisher (RabbitMQ's validated `user_id`) that the worker's
///   `GEOREP_AMQP_ADMIN_USERS` lists. Without it the command is refused with `option_not_allowed`
///   and no gluster process starts.
/// - A reset needs the grant as much as a set: the packaged default is not always the safer
///   value (`ssh-options`' default turns `StrictHostKeyChecking` off, `allow-network`'s lets
///   every network in), so resetting an admin's hardening is an admin's decision too.
/// - Unknown and fixed options never get this far: ``Command/validate()`` refuses them.
public enum OptionGrant {
    /// The code of a refusal, on the bus (`command.rejected`, dead letter) and in the API (403).
    public static let notAllowed = "option_not_allowed"

    /// Where a command came from: what a refusal tells its sender to do.
    public enum Source: Sendable, Equatable {
        /// The HTTP API, with the role of the caller's token.
        case api(role: String)
        /// The bus, published by this AMQP user (nil: the message carried no `user_id`).
        case bus(user: String?)
    }

    public enum Decision: Equatable, Sendable {
        /// The command changes no option that needs the grant.
        case allow
        /// Allowed through the admin grant: log it at notice level and keep ``Record`` in the history.
        case granted(GeoRepOption)
        /// The option needs the admin grant and the sender lacks it.
        case refuse(ErrorInfo)
    }

    /// Decides for `command`; `admin`: the sender holds the admin grant.
    public static func decide(_ command: Command, admin: Bool, from source: Source) -> Decision {
        guard command.action == .configSet || command.action == .configReset,
              let key = command.options.key, let option = GeoRepOption.named(key), option.kind.needsGrant
        else { return .allow }
        if admin { return .granted(option) }
        let why = switch option.kind {
        case .executing: "gsyncd runs it (a program, its directory or its arguments) as root on every primary node"
        case .path: "it decides where gsyncd reads and writes as root on every primary node"
        default: "it decides which networks and nodes gsyncd lets in"
        }
        let what = command.action == .configSet ? "setting" : "resetting"
        let instead = switch source {
        case .api(let role):
            "send it with an API token of the admin role (GEOREP_API_TOKENS TOKEN:admin); this token has the \(role) role"
        case .bus(let user):
            "publish it as an AMQP user the workers' GEOREP_AMQP_ADMIN_USERS lists (the broker checks the message's user_id); "
                + (user.map { "this one came from \"\(ValidationError.printable($0))\"" } ?? "this one carried no user_id")
        }
        return .refuse(ErrorInfo(code: notAllowed,
                                 message: "\(what) \(option.name) needs the admin grant: \(why); \(instead)"))
    }

    /// The AMQP user a delivery speaks for: RabbitMQ's validated `user_id`, or, for a command a
    /// worker put back for a later try (republished under the worker's own user, which the broker
    /// then checks), the user the worker forwarded in a header. A publisher that shares the
    /// workers' AMQP user can therefore claim any user: give the workers a user of their own
    /// (`ops/rabbitmq/users.sh`). A forwarded empty value means the command came with no user.
    public static func publisher(userId: String?, ownUser: String, forwarded: String?) -> String? {
        guard let userId, !userId.isEmpty else { return nil }
        if userId == ownUser, let forwarded { return forwarded.isEmpty ? nil : forwarded }
        return userId
    }

    /// What the command history keeps of a change made through the admin grant.
    public struct Record: Codable, Hashable, Sendable {
        /// The option as the command named it.
        public var option: String
        public var kind: GeoRepOption.Kind
        /// The value set; nil for a reset.
        public var value: String?
        /// Who held the grant: the AMQP user the worker granted it to.
        public var grantedTo: String
        /// The command's own `sender` (as sent; the API puts its token's role there).
        public var sender: String

        public init(option: String, kind: GeoRepOption.Kind, value: String?, grantedTo: String, sender: String) {
            self.option = option
            self.kind = kind
            self.value = value
            self.grantedTo = grantedTo
            self.sender = sender
        }

        public init(_ command: Command, option: GeoRepOption, grantedTo: String) {
            self.init(option: command.options.key ?? option.name, kind: option.kind,
                      value: command.action == .configSet ? command.options.value : nil, grantedTo: grantedTo, sender: command.sender)
        }
    }
}
