import Foundation

/// `host/pid`: names a process in connection names, event sources and logs.
public enum ProcessIdentity {
    public static var name: String {
        "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)"
    }
}
