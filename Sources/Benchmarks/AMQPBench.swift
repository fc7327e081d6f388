import AMQP
import ArgumentParser
import Foundation
import Logging

/// Publish-with-confirms and consume-with-ack rates on loopback, ours beside pika's, measured
/// in the same run on the same kind of queue (durable quorum queue, persistent messages).
struct AMQPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "amqp", abstract: "RabbitMQ publish (confirmed) and consume (acked) rates: georep's client vs pika.")

    @OptionGroup var broker: BrokerOption
    @Option(help: "Messages per run.") var messages = 5000
    @Option(help: "Body size in bytes.") var size = 512
    @Option(help: "Rounds; the best of each is reported.") var rounds = 3

    func run() async throws {
        let url = try broker.url()
        var logger = Logger(label: "georep.bench")
        logger.logLevel = .warning
        let configuration = try AMQPConfiguration(url: url)
        let script = BenchSupport.repository.appendingPathComponent("ops/bench/pika_bench.py").path
        print("\(messages) persistent messages of \(size) bytes into a quorum queue, confirm awaited per publish; consume with an ack each (prefetch 100); best of \(rounds)")
        var ours = (publish: 0.0, consume: 0.0)
        var pika = (publish: 0.0, consume: 0.0)
        for _ in 0..<rounds {
            let o = try await measureOurs(configuration, logger: logger)
            ours = (max(ours.publish, o.publish), max(ours.consume, o.consume))
            let p = try await measurePika(configuration, url: url, script: script, logger: logger)
            pika = (max(pika.publish, p.publish), max(pika.consume, p.consume))
        }
        print(String(format: "  georep (librabbitmq)  publish %8.0f msg/s   consume %8.0f msg/s", ours.publish, ours.consume))
        print(String(format: "  pika (baseline)       publish %8.0f msg/s   consume %8.0f msg/s", pika.publish, pika.consume))
        print(String(format: "  ratio georep / pika   publish %8.2fx       consume %8.2fx", ours.publish / pika.publish, ours.consume / pika.consume))
    }

    func benchQueue(_ c: AMQPConnection) async throws -> String {
        let name = "bench.\(UUID().uuidString.prefix(8).lowercased())"
        try await c.declare(Topology(exchanges: [], queues: [.init(name: name, arguments: [("x-queue-type", .string("quorum"))])], bindings: []))
        return name
    }

    func measureOurs(_ configuration: AMQPConfiguration, logger: Logger) async throws -> (publish: Double, consume: Double) {
        let publisher = AMQPConnection(configuration: configuration, name: "georep bench publish", logger: logger)
        let consumer = AMQPConnection(configuration: configuration, name: "georep bench consume", logger: logger)
        try await publisher.open()
        try await consumer.open()
        let queue = try await benchQueue(publisher)
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        let properties = MessageProperties(contentType: "application/octet-stream")
        var start = ContinuousClock.now
        for _ in 0..<messages {
            try await publisher.publish(exchange: "", routingKey: queue, body: body, properties: properties)
        }
        let publishSeconds = seconds(ContinuousClock.now - start)
        start = ContinuousClock.now
        var received = 0
        for try await delivery in try await consumer.consume(queues: [queue], prefetch: 100) {
            try await consumer.ack(delivery)
            received += 1
            if received == messages { break }
        }
        let consumeSeconds = seconds(ContinuousClock.now - start)
        try await publisher.deleteQueue(queue)
        await consumer.close()
        await publisher.close()
        return (Double(messages) / publishSeconds, Double(messages) / consumeSeconds)
    }

    func measurePika(_ configuration: AMQPConfiguration, url: String, script: String, logger: Logger) async throws -> (publish: Double, consume: Double) {
        let admin = AMQPConnection(configuration: configuration, name: "georep bench admin", logger: logger)
        try await admin.open()
        let queue = try await benchQueue(admin)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, url, queue, String(messages), String(size)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try await admin.deleteQueue(queue)
        await admin.close()
        guard process.terminationStatus == 0,
              let json = try JSONSerialization.jsonObject(with: output) as? [String: Double],
              let publish = json["publish_per_s"], let consume = json["consume_per_s"]
        else { throw ValidationError("the pika benchmark failed (pip install pika): \(String(decoding: output, as: UTF8.self))") }
        return (publish, consume)
    }

}
