import Foundation

extension Topology {
    /// The topology as RabbitMQ definitions (`rabbitmqctl import_definitions FILE`), so that ops
    /// can create it before any process runs, from the same definition the processes declare.
    public func definitions(vhost: String) -> [String: Any] {
        func json(_ entries: [(String, AMQPValue)]) -> [String: Any] {
            var out: [String: Any] = [:]
            for (key, value) in entries {
                switch value {
                case .string(let s): out[key] = s
                case .int(let n): out[key] = n
                case .bool(let b): out[key] = b
                case .table(let t): out[key] = json(t)
                case .array: continue
                }
            }
            return out
        }
        return [
            "vhosts": [["name": vhost]],
            "exchanges": exchanges.map {
                ["name": $0.name, "vhost": vhost, "type": $0.type, "durable": true, "auto_delete": false,
                 "internal": $0.isInternal, "arguments": json($0.arguments)] as [String: Any]
            },
            "queues": queues.map {
                ["name": $0.name, "vhost": vhost, "durable": $0.durable, "auto_delete": $0.autoDelete,
                 "arguments": json($0.arguments)] as [String: Any]
            },
            "bindings": bindings.map {
                ["source": $0.exchange, "vhost": vhost, "destination": $0.queue, "destination_type": "queue",
                 "routing_key": $0.routingKey, "arguments": [String: Any]()] as [String: Any]
            },
            "policies": policies.map {
                ["name": $0.name, "vhost": vhost, "pattern": $0.pattern, "apply-to": "queues", "priority": $0.priority,
                 "definition": json($0.definition)] as [String: Any]
            },
        ]
    }

    /// ``definitions(vhost:)`` as stable, pretty JSON text.
    public func definitionsJSON(vhost: String) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: definitions(vhost: vhost), options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
