import AMQP
import GeoRepCore
import Logging

extension CommandHandler {
    /// What the grant check decided: go on (with the record of a granted change), or the
    /// command was rejected and settled.
    enum GrantCheck {
        case allowed(OptionGrant.Record?)
        case rejected
    }

    /// Applies ``OptionGrant`` to a command from the bus. The publisher is the AMQP user the
    /// broker vouched for (`user_id`), never the command's own `sender`, which anyone may write.
    /// A refusal is bad input: `command.rejected` with `option_not_allowed`, a dead letter, no
    /// gluster process.
    func checkGrant(_ command: Command, _ delivery: Delivery, consumer: AMQPConnection, bus: GeoRepBus,
                    log: Logger) async throws -> GrantCheck {
        let publisher = bus.publisher(of: delivery)
        let admin = publisher.map { adminPublishers.contains($0) } ?? false
        switch OptionGrant.decide(command, admin: admin, from: .bus(user: publisher)) {
        case .allow:
            return .allowed(nil)
        case .refuse(let error):
            try await reject(delivery, command, error, deadLetter: true, consumer: consumer, bus: bus, log: log)
            return .rejected
        case .granted(let option):
            let record = OptionGrant.Record(command, option: option, grantedTo: publisher ?? "")
            // The audit trail: who changed what a root process on every primary node will run.
            log.notice("admin grant: changing a geo-replication option gsyncd runs or keeps its state by", metadata: [
                "option": "\(record.option)", "option_kind": "\(record.kind.rawValue)", "value": "\(record.value.map { ValidationError.printable($0) } ?? "(reset)")",
                "amqp_user": "\(record.grantedTo)", "sender": "\(ValidationError.printable(record.sender))",
            ])
            return .allowed(record)
        }
    }
}
