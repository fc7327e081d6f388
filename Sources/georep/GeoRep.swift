import ArgumentParser

@main
struct GeoRep: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "georep",
        abstract: "Control service for GlusterFS geo-replication: commands in over RabbitMQ, events out, state in PostgreSQL.",
        discussion: """
            Settings come from options, environment variables (GEOREP_*) or a config file of NAME=value
            lines (GEOREP_CONFIG); `georep settings` lists them all with the values in effect.
            `ops/stack-up.sh` writes them for the local stack to /var/lib/georep/stack.env.
            """,
        subcommands: [WorkerCommand.self, PersisterCommand.self, APICommand.self, MigrateCommand.self, PublishCommand.self, DemoCommand.self,
                      TopologyCommand.self, SettingsCommand.self, StatusCommand.self, TurnCommand.self]
    )
}
