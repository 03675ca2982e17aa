import OAuth3Wire

/// The app-compose.json that dstack measures for a docker-compose application, built from the compose
/// file alone, so an auditor can recompute the expected compose hash from a repository.
///
/// **Fields** are those dstack's own tool writes for a docker-compose app (`vmm-cli.py compose` in
/// Dstack-TEE/dstack, `vmm/src/vmm-cli.py`): `manifest_version` 2, `name`, `runner` "docker-compose",
/// `docker_compose_file` (the compose file's text, verbatim), `kms_enabled`, `gateway_enabled`,
/// `local_key_provider_enabled`, `key_provider_id`, `public_logs`, `public_sysinfo`, `allowed_envs`,
/// `no_instance_id` and `secure_time` always; `key_provider` and `pre_launch_script` only when set
/// (an empty pre-launch script is left out, as the dstack SDKs' normalisation does).
///
/// **Serialisation** is the deterministic form of the dstack SDKs' `get_compose_hash` (`sdk/js/src/
/// get-compose-hash.ts`, `sdk/python/src/dstack_sdk/get_compose_hash.py`): keys sorted, no whitespace,
/// non-ASCII raw, which is ``CanonicalJSON``. `vmm-cli.py` itself indents its output instead; since the
/// guest hashes bytes (``ComposeHash``), deploy exactly the bytes ``encoded`` returns and the measured
/// hash is ``composeHash`` whichever tool carries the file.
public struct AppCompose: Sendable, Hashable {
    /// dstack's app-compose manifest version for this layout.
    public static let manifestVersion = 2
    /// The runner: dstack starts `docker_compose_file` with docker compose.
    public static let runner = "docker-compose"

    /// The application's name.
    public var name: String
    /// The docker-compose file's text, byte for byte.
    public var dockerComposeFile: String
    /// Names of the variables the operator may set through dstack's encrypted environment (their values
    /// are not measured; their names are). Order matters to the hash, as in dstack.
    public var allowedEnvs: [String]
    /// Keys from dstack's KMS, bound to the app id: the same keys in every CVM of this app.
    public var kmsEnabled: Bool
    /// Whether dstack's gateway routes (and terminates TLS for) `<app-id>-<port>.<domain>`.
    public var gatewayEnabled: Bool
    /// Keys from a local (SGX) key provider instead of the KMS.
    public var localKeyProviderEnabled: Bool
    /// The key provider's id, hex (empty: any).
    public var keyProviderID: String
    /// The key provider kind (`kms`, `local`, …), written only when set.
    public var keyProvider: String?
    /// Whether the CVM's container logs are readable without authentication.
    public var publicLogs: Bool
    /// Whether the CVM's system information is readable without authentication.
    public var publicSysinfo: Bool
    /// Whether the CVM omits an instance id (then every instance of the app is indistinguishable).
    public var noInstanceID: Bool
    /// Whether the guest waits for a trusted time source before starting the app.
    public var secureTime: Bool
    /// A script the guest runs before docker compose, written only when not empty.
    public var preLaunchScript: String?

    /// An app-compose for `dockerComposeFile` with this project's deployment defaults: KMS and gateway on,
    /// container logs private (they name jobs), system information public.
    public init(
        name: String, dockerComposeFile: String, allowedEnvs: [String], kmsEnabled: Bool = true, gatewayEnabled: Bool = true,
        localKeyProviderEnabled: Bool = false, keyProviderID: String = "", keyProvider: String? = nil, publicLogs: Bool = false,
        publicSysinfo: Bool = true, noInstanceID: Bool = false, secureTime: Bool = false, preLaunchScript: String? = nil
    ) {
        self.name = name
        self.dockerComposeFile = dockerComposeFile
        self.allowedEnvs = allowedEnvs
        self.kmsEnabled = kmsEnabled
        self.gatewayEnabled = gatewayEnabled
        self.localKeyProviderEnabled = localKeyProviderEnabled
        self.keyProviderID = keyProviderID
        self.keyProvider = keyProvider
        self.publicLogs = publicLogs
        self.publicSysinfo = publicSysinfo
        self.noInstanceID = noInstanceID
        self.secureTime = secureTime
        self.preLaunchScript = preLaunchScript
    }

    /// The manifest as a JSON value.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "manifest_version": .number(Double(Self.manifestVersion)),
            "name": .string(name),
            "runner": .string(Self.runner),
            "docker_compose_file": .string(dockerComposeFile),
            "kms_enabled": .bool(kmsEnabled),
            "gateway_enabled": .bool(gatewayEnabled),
            "local_key_provider_enabled": .bool(localKeyProviderEnabled),
            "key_provider_id": .string(keyProviderID),
            "public_logs": .bool(publicLogs),
            "public_sysinfo": .bool(publicSysinfo),
            "allowed_envs": .array(allowedEnvs.map(JSONValue.string)),
            "no_instance_id": .bool(noInstanceID),
            "secure_time": .bool(secureTime),
        ]
        if let keyProvider { members["key_provider"] = .string(keyProvider) }
        if let preLaunchScript, !preLaunchScript.isEmpty { members["pre_launch_script"] = .string(preLaunchScript) }
        return .object(members)
    }

    /// The app-compose.json bytes to deploy: keys sorted, no whitespace, no trailing newline.
    public var encoded: [UInt8] { CanonicalJSON.encode(json) }

    /// The compose hash dstack will measure for ``encoded``.
    public var composeHash: [UInt8] { ComposeHash.of(encoded) }

    /// The variables a compose file interpolates (`$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME:?error}`,
    /// …), sorted and without repeats: the names an operator must supply, so the default `allowed_envs`.
    /// `$$` is docker compose's escaped dollar and names nothing; whole-line `#` comments are skipped
    /// (compose interpolates values, never comments).
    public static func referencedVariables(in composeFile: String) -> [String] {
        var names: Set<String> = []
        for line in composeFile.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            if line.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("#") { continue }
            let characters = Array(line.unicodeScalars)
            var index = 0
            while index < characters.count {
                guard characters[index] == "$", index + 1 < characters.count else { index += 1; continue }
                var start = index + 1
                if characters[start] == "$" { index += 2; continue }
                if characters[start] == "{" { start += 1 }
                var end = start
                while end < characters.count, isNameScalar(characters[end], first: end == start) { end += 1 }
                if end > start { names.insert(String(String.UnicodeScalarView(characters[start..<end]))) }
                index = max(end, index + 1)
            }
        }
        return names.sorted()
    }

    private static func isNameScalar(_ scalar: Unicode.Scalar, first: Bool) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "_": true
        case "0"..."9": !first
        default: false
        }
    }
}
