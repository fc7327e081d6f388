import Foundation

/// A request to change or read one geo-replication session, as published by upstream services.
///
/// It travels as the `data` of a CloudEvent of type `georep.command.<action>`
/// (see `Schemas/command.schema.json`).
public struct Command: Codable, Hashable, Sendable {
    /// Chosen by the sender; a redelivered or re-sent command with the same id is applied once.
    public var commandId: UUID
    public var action: CommandAction
    public var session: SessionRef
    public var options: CommandOptions
    /// Who sent it (a service or user name), for audit.
    public var sender: String
    public var issuedAt: Date

    public init(
        commandId: UUID = UUID(), action: CommandAction, session: SessionRef,
        options: CommandOptions = CommandOptions(), sender: String, issuedAt: Date = Date()
    ) {
        self.commandId = commandId
        self.action = action
        self.session = session
        self.options = options
        self.sender = sender
        self.issuedAt = issuedAt
    }

    /// The CloudEvent type this command travels as.
    public var eventType: String { "georep.command.\(action.rawValue)" }

    /// Checks every name and option that could reach a process. A config option must be one
    /// gsyncd has and lets change (``GeoRepOption``); who may change it is ``OptionGrant``'s call.
    public func validate() throws(ValidationError) {
        try session.validate()
        guard sender.unicodeScalars.count <= 128,
              sender.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F })
        else {
            throw ValidationError(field: "sender", value: sender, reason: "at most 128 printable characters")
        }
        if let port = options.sshPort, !(1...65535).contains(port) {
            throw ValidationError(field: "options.ssh_port", value: String(port), reason: "a TCP port is 1-65535")
        }
        switch action {
        case .configSet:
            guard let key = options.key else {
                throw ValidationError(field: "options.key", value: "", reason: "config.set needs an option name")
            }
            try Validate.configKey(key, field: "options.key")
            let option = try GeoRepOption.changeable(key, field: "options.key")
            guard let value = options.value else {
                throw ValidationError(field: "options.value", value: "", reason: "config.set needs a value")
            }
            try option.validate(value, field: "options.value")
        case .configReset:
            try Validate.configKey(options.key ?? "", field: "options.key")
            _ = try GeoRepOption.changeable(options.key ?? "", field: "options.key")
        case .checkpoint:
            if let at = options.checkpoint, at != "now" {
                try Validate.configValue(at, field: "options.checkpoint")
            }
            if let wait = options.wait, !(1...CommandOptions.maxWaitSeconds).contains(wait) {
                throw ValidationError(field: "options.wait", value: String(wait),
                                      reason: "seconds to wait for the checkpoint: 1-\(CommandOptions.maxWaitSeconds), or leave it out")
            }
        case .schedule:
            guard let schedule = options.schedule else {
                throw ValidationError(field: "options.schedule", value: "", reason: "schedule needs windows, daily, or an empty object to clear it")
            }
            try schedule.validate(field: "options.schedule")
        default:
            break
        }
    }
}
