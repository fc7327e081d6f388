import ArgumentParser

@main
struct GeoRep: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "georep",
        abstract: "Control service for GlusterFS geo-replication: commands in over RabbitMQ, events out, state in PostgreSQL.",
        discussion: """
            Settings come from options or environment variables: GEOREP_AMQP_URL, GEOREP_PG_URL,
            GEOREP_INVENTORY, GEOREP_SHARDS, GEOREP_SCHEMAS, GEOREP_LOG_LEVEL. `ops/stack-up.sh` writes
            them for the local stack to /var/lib/georep/stack.env.
            """,
        subcommands: [WorkerCommand.self, PersisterCommand.self, APICommand.self, MigrateCommand.self, PublishCommand.self, DemoCommand.self, TopologyCommand.self]
    )
}
