/// The names gluster, ssh and the service accept, checked character by character.
///
/// Each rule is an allow-list: hostile values (`vol;touch /tmp/x`, `--help`, `$(id)`,
/// backquotes, newlines, very long strings) fail because they contain something not
/// listed, not because someone thought of them.
public enum Validate {
    /// A gluster volume name: 1–64 of `A-Z a-z 0-9 _ -`, not starting with `-`.
    public static func volumeName(_ value: String, field: String) throws(ValidationError) {
        try check(value, field: field, maxLength: 64, what: "a volume name", allowed: isWordChar)
    }

    /// A cluster id as used in the REST paths and the inventory: 1–64 of `A-Z a-z 0-9 . _ -`.
    public static func clusterID(_ value: String, field: String) throws(ValidationError) {
        try check(value, field: field, maxLength: 64, what: "a cluster id") { isWordChar($0) || $0 == "." }
    }

    /// A POSIX user name: 1–32 of `a-z 0-9 _ -`, starting with a letter or `_`.
    public static func userName(_ value: String, field: String) throws(ValidationError) {
        try check(value, field: field, maxLength: 32, what: "a user name") {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
        if let first = value.unicodeScalars.first, ("0"..."9").contains(first) {
            throw ValidationError(field: field, value: value, reason: "a user name starts with a letter or _")
        }
    }

    /// A host name (RFC 1123 labels), an IPv4 address or a bare IPv6 address.
    public static func hostName(_ value: String, field: String) throws(ValidationError) {
        try check(value, field: field, maxLength: 253, what: "a host name or address") {
            isWordChar($0) && $0 != "_" || $0 == "." || $0 == ":"
        }
        if value.contains(":") {
            guard value.unicodeScalars.allSatisfy({ $0 == ":" || $0.properties.isASCIIHexDigit }) else {
                throw ValidationError(field: field, value: value, reason: "an IPv6 address holds only hex digits and ':'")
            }
            return
        }
        for label in value.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63, label.first != "-", label.last != "-" else {
                throw ValidationError(
                    field: field, value: value,
                    reason: "each dot-separated label is 1-63 characters and neither starts nor ends with '-'")
            }
        }
    }

    /// A geo-replication config option name, e.g. `sync-jobs` or `sync_jobs`.
    public static func configKey(_ value: String, field: String) throws(ValidationError) {
        try check(value, field: field, maxLength: 64, what: "a config option name") {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
    }

    /// A config option value: printable, no leading `-`, at most 1024 characters.
    /// Spaces are allowed (`gluster_params` is `aux-gfid-mount acl`), shell metacharacters are
    /// harmless here because no shell is ever involved, but control characters are not.
    /// `leadingDash`: the value is a list of arguments (`-oPasswordAuthentication=no …`), which
    /// gluster passes through as the value of `config` without reading options from it.
    public static func configValue(_ value: String, field: String, leadingDash: Bool = false) throws(ValidationError) {
        guard value.unicodeScalars.count <= 1024 else {
            throw ValidationError(field: field, value: value, reason: "a config value has at most 1024 characters")
        }
        guard leadingDash || !value.hasPrefix("-") else {
            throw ValidationError(field: field, value: value, reason: "a config value may not start with '-'")
        }
        guard value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw ValidationError(field: field, value: value, reason: "a config value may not contain control characters")
        }
    }

    private static func isWordChar(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == "-"
    }

    private static func check(
        _ value: String, field: String, maxLength: Int, what: String, allowed: (Unicode.Scalar) -> Bool
    ) throws(ValidationError) {
        guard !value.isEmpty else {
            throw ValidationError(field: field, value: value, reason: "\(what) may not be empty")
        }
        guard value.unicodeScalars.count <= maxLength else {
            throw ValidationError(field: field, value: value, reason: "\(what) has at most \(maxLength) characters")
        }
        guard value.first != "-" else {
            throw ValidationError(field: field, value: value, reason: "\(what) may not start with '-' (it would read as an option)")
        }
        if let bad = value.unicodeScalars.first(where: { !allowed($0) }) {
            throw ValidationError(
                field: field, value: value,
                reason: "\(what) may not contain \(ValidationError.printable(String(bad)).debugDescription)")
        }
    }
}
