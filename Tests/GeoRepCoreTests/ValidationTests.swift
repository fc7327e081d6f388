import GeoRepCore
import Testing

@Suite struct ValidationTests {
    static let hostile = [
        "vol;touch /tmp/x", "--help", "-x", "vol\nname", "$(id)", "`id`", "a b", "vol|cat", "vol&", "../etc",
        String(repeating: "v", count: 65), "", "vol'", "vol\"", "vol\u{0}",
    ]

    @Test(arguments: hostile)
    func rejectsHostileVolumeNames(name: String) {
        #expect(throws: ValidationError.self) { try Validate.volumeName(name, field: "volume") }
    }

    @Test(arguments: ["mvol", "svol_2", "Vol-01", "a"])
    func acceptsVolumeNames(name: String) throws {
        try Validate.volumeName(name, field: "volume")
    }

    @Test(arguments: ["vm", "gluster-1.example.com", "10.0.0.1", "fd00::2"])
    func acceptsHosts(host: String) throws {
        try Validate.hostName(host, field: "host")
    }

    @Test(arguments: ["-oProxyCommand=id", "host;id", "a..b", "-h", "host name", "$(id)", "ho`st", "host-", "x_y"])
    func rejectsHostileHosts(host: String) {
        #expect(throws: ValidationError.self) { try Validate.hostName(host, field: "host") }
    }

    @Test func errorSaysWhatAndWhy() {
        do {
            try Validate.volumeName("vol;rm", field: "session.primary_volume")
            Issue.record("accepted a hostile name")
        } catch {
            #expect(error.field == "session.primary_volume")
            #expect(error.description.contains("may not contain \";\""))
        }
    }

    @Test func configValuesAllowSpacesButNoControlOrDash() throws {
        try Validate.configValue("aux-gfid-mount acl", field: "v")
        #expect(throws: ValidationError.self) { try Validate.configValue("--x", field: "v") }
        #expect(throws: ValidationError.self) { try Validate.configValue("a\nb", field: "v") }
    }

    @Test func stableIDsAreDeterministicVersion5() {
        let a = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: "VM", secondaryVolume: "svol")
        let b = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: "vm", secondaryVolume: "svol", secondaryUser: "root")
        #expect(a.sessionID == b.sessionID)
        #expect(a.key == "lab/mvol/root@vm::svol")
        #expect(a.sessionID.uuidString.dropFirst(14).first == "5")
        // RFC 4122 appendix-style check against a known SHA-1 based v5 value (DNS namespace, "python.org").
        let dns = UUID(uuidString: "6ba7b810-9dad-11d1-80b4-00c04fd430c8")!
        #expect(StableID.uuid(name: "python.org", namespace: dns).uuidString.lowercased() == "886313e1-3b8a-5372-9b90-0c9aee199e5d")
    }

    @Test func parsesSecondarySpellings() {
        #expect(SessionRef.parseSecondary("vm::svol")! == (nil, "vm", "svol"))
        #expect(SessionRef.parseSecondary("ssh://vm::svol")! == (nil, "vm", "svol"))
        #expect(SessionRef.parseSecondary("geo@vm::svol")! == ("geo", "vm", "svol"))
        #expect(SessionRef.parseSecondary("vm:svol") == nil)
    }
}

import Foundation
