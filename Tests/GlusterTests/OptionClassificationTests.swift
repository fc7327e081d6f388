import Foundation
import GeoRepCore
@testable import Gluster
import Testing

/// Every option gluster reports is in ``GeoRepOption/all``: the recorded GlusterFS 10.3 `config`
/// answers, the same names as GlusterFS 7.x spelled them, the stand-in's table and, where
/// glusterfs-server is installed, its `/etc/glusterfs/gsyncd.conf`. An option a new gluster adds
/// fails here until someone decides who may change it.
@Suite struct OptionClassificationTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The option names of every recorded `config` answer.
    func recordedKeys() throws -> Set<String> {
        var keys: Set<String> = []
        for file in RecordedOutput.allFiles where file.hasPrefix("config-") {
            let out = try RecordedOutput.load(file)
            keys.formUnion(try GlusterParser.config(out.text, exitCode: out.exitCode).keys)
        }
        return keys
    }

    @Test func everyRecordedOptionIsClassified() throws {
        let keys = try recordedKeys()
        #expect(keys.count > 50, "config-all.xml was not read: \(keys)")
        let unclassified = keys.filter { GeoRepOption.named($0) == nil }.sorted()
        #expect(unclassified.isEmpty, "options gluster reports that GeoRepOption.all does not classify: \(unclassified)")
        // The ones gsyncd runs are among them, and classified so.
        for key in ["ssh_command", "ssh_options", "rsync_command", "rsync_options", "tar_command", "gluster_command", "gluster_command_dir",
                    "secondary_gluster_command_dir", "remote_gsyncd", "gluster_params"] {
            #expect(keys.contains(key), "\(key) is not in the recorded output")
            #expect(GeoRepOption.named(key)?.kind == .executing, "\(key)")
        }
    }

    /// GlusterFS 8 renamed master to primary and slave to secondary, word for word
    /// (`isolated-slaves` became `isolated-secondarys`): 7.x's names are the recorded ones spelled back.
    @Test func theSameOptionsAsGlusterFS7SpelledThemAreClassifiedAlike() throws {
        for key in try recordedKeys() {
            let old = key.replacingOccurrences(of: "secondarys", with: "slaves").replacingOccurrences(of: "secondary", with: "slave")
                .replacingOccurrences(of: "primary", with: "master")
            guard old != key else { continue }
            #expect(GeoRepOption.named(old) != nil, "GlusterFS 7's \(old) (\(key)) is not classified")
            #expect(GeoRepOption.named(old) == GeoRepOption.named(key), "\(old) and \(key) are classified differently")
        }
    }

    /// The stand-in gluster's option table (`ops/standin/gluster`, CONFIG) names the same options.
    @Test func theStandinsOptionsAreClassified() throws {
        let script = try String(contentsOf: Self.repository.appendingPathComponent("ops/standin/gluster"), encoding: .utf8)
        let start = try #require(script.range(of: "CONFIG = ("))
        let end = try #require(script.range(of: "\n)\n", range: start.upperBound..<script.endIndex))
        let table = script[start.upperBound..<end.lowerBound]
        let names = String(table).matches(of: try Regex(#"\(\s*"([a-z_]+)",\s*""#)).map { String($0.output[1].substring ?? "") }
        #expect(names.count > 50, "the stand-in's CONFIG table was not read")
        for name in names {
            #expect(GeoRepOption.named(name) != nil, "the stand-in's \(name) is not classified")
        }
    }

    /// gsyncd.conf as installed: every section classified; `configurable=false` ones fixed; the
    /// ones gsyncd validates as `execpath` (programs) executing.
    @Test func theInstalledGsyncdConfIsClassifiedWhereThereIsOne() throws {
        let path = ProcessInfo.processInfo.environment["GEOREP_GSYNCD_CONF"] ?? "/etc/glusterfs/gsyncd.conf"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            print("OptionClassificationTests: no \(path) here (glusterfs-server not installed); checked the recorded output only")
            return
        }
        var sections: [(name: String, lines: [String])] = []
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("["), line.hasSuffix("]") {
                sections.append((String(line.dropFirst().dropLast()), []))
            } else if !line.hasPrefix("#"), !sections.isEmpty {
                sections[sections.count - 1].lines.append(line.replacingOccurrences(of: " ", with: ""))
            }
        }
        #expect(sections.count > 50, "\(path) has \(sections.count) sections")
        for (name, lines) in sections where name != "__meta__" {
            guard let option = GeoRepOption.named(name) else {
                Issue.record("\(path): [\(name)] is not classified")
                continue
            }
            if lines.contains("configurable=false") {
                #expect(option.kind == .fixed, "[\(name)] is configurable=false but classified \(option.kind)")
            } else if option.kind == .fixed {
                // glusterd reserves this one even though gsyncd would take it.
                #expect(option.name == "state-socket-unencoded", "[\(name)] is configurable but classified fixed")
            }
            if lines.contains("validation=execpath") {
                #expect(option.kind == .executing && option.form == .program, "[\(name)] names a program but is classified \(option.kind)")
            }
        }
    }

    @Test func configSetBuildsOnlyChangeableOptionsWithCheckedValues() throws {
        let ref = SessionRef(cluster: "lab", primaryVolume: "mvol", secondaryHost: "vm", secondaryVolume: "svol")
        #expect(try GlusterArguments.configSet(ref, key: "ssh-options", value: "-oStrictHostKeyChecking=yes").suffix(3)
                == ["config", "ssh-options", "-oStrictHostKeyChecking=yes"])
        #expect(throws: ValidationError.self) { try GlusterArguments.configSet(ref, key: "pid-file", value: "/tmp/x") }
        #expect(throws: ValidationError.self) { try GlusterArguments.configSet(ref, key: "frobnicate", value: "1") }
        #expect(throws: ValidationError.self) { try GlusterArguments.configSet(ref, key: "ssh-command", value: "") }
        #expect(throws: ValidationError.self) { try GlusterArguments.configReset(ref, key: "log-file") }
    }
}
