import ArgumentParser

@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "georep-bench",
        abstract: "Benchmarks of georep; each prints its figures beside a baseline measured in the same run.",
        subcommands: [SSHBench.self, FreshnessBench.self, AMQPBench.self, PersisterBench.self, ScaleBench.self, OverheadBench.self, MonitorBench.self, ChaosRun.self, FuzzRun.self, WedgeRun.self])
}
