import ArgumentParser
import Foundation

/// The RabbitMQ URL of a benchmark: `--amqp-url`, else `GEOREP_AMQP_URL`.
struct BrokerOption: ParsableArguments {
    @Option(help: "RabbitMQ URL (env GEOREP_AMQP_URL).") var amqpURL: String?

    func url() throws -> String {
        guard let url = amqpURL ?? ProcessInfo.processInfo.environment["GEOREP_AMQP_URL"] else {
            throw ValidationError("pass --amqp-url or set GEOREP_AMQP_URL (source /var/lib/georep/stack.env)")
        }
        return url
    }
}
