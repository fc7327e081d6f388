import ArgumentParser

struct SettingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings",
        abstract: "List every setting with the value in effect (from the environment or the config file; secrets hidden).")

    @OptionGroup var settings: Settings

    func run() async throws {
        let settings = try self.settings.resolve()
        for setting in Setting.allCases {
            let current = settings.value(setting).map { setting.isSecret ? "(set, hidden)" : $0 } ?? "(default)"
            let fallback = setting.defaultValue.isEmpty ? "none" : setting.defaultValue
            print("\(setting.rawValue)=\(current)")
            print("    \(setting.help); used by \(setting.usedBy); default \(fallback)")
        }
    }
}
