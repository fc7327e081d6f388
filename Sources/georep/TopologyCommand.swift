import AMQP
import ArgumentParser

struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Print the RabbitMQ topology as definitions for `rabbitmqctl import_definitions` (ops/rabbitmq/definitions.json).")

    @OptionGroup var settings: Settings
    @Option(help: "The vhost the definitions are for.") var vhost = "georep"

    func run() async throws {
        let settings = try self.settings.resolve()
        print(try settings.topology.topology.definitionsJSON(vhost: vhost), terminator: "")
    }
}
