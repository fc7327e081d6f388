import AMQP
import Foundation
import Testing

/// One RabbitMQ user per service on a test's own topology, made by the same script as the
/// stack's (`ops/rabbitmq/users.sh`): NAME → password.
func makeServiceUsers(_ topology: GeoRepTopology) throws -> [String: String] {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("georep-users-\(topology.prefix)")
    let made = runCommandCapturing([StandinLab.repository.appendingPathComponent("ops/rabbitmq/users.sh").path, topology.prefix, file.path, "georep"])
    #expect(made.status == 0, "users.sh: \(made.output)")
    let text = try String(contentsOf: file, encoding: .utf8)
    return Dictionary(uniqueKeysWithValues: text.split(separator: "\n").compactMap { line -> (String, String)? in
        let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    })
}

/// Removes what ``makeServiceUsers(_:)`` made.
func removeServiceUsers(_ topology: GeoRepTopology) {
    for role in ["worker", "persister", "api", "publisher"] { _ = runCommand(["rabbitmqctl", "-q", "delete_user", "\(topology.prefix)-\(role)"]) }
    try? FileManager.default.removeItem(at: FileManager.default.temporaryDirectory.appendingPathComponent("georep-users-\(topology.prefix)"))
}
