import DCAPVerifier
import OAuth3Wire
import Testing

/// The app-compose.json we write, and the compose hash, against the dstack SDKs' published vectors.
@Suite("app-compose.json and the compose hash")
struct AppComposeTests {
    /// Reference hashes from the dstack SDKs' cross-language tests (`sdk/go/dstack/compose_hash_test.go`,
    /// produced by the JavaScript SDK and checked against the Python one): our canonical encoding must hash
    /// every one of them identically, or a manifest we write would not be the one the SDKs predict.
    static let sdkVectors: [(name: String, manifest: JSONValue, hash: String)] = [
        ("minimal", .object(["runner": .string("docker-compose")]), "1120e42a7b5f2ca50128696ea414771441b4fa92373427108a7173181cc80b55"),
        (
            "docker compose file",
            .object(["runner": .string("docker-compose"), "docker_compose_file": .string("services:\n  app:\n    image: nginx\n")]),
            "1ce6eb200cb550901bf9d1f3b30d3a2a678ae6a7dc7d78ff226dd41d78dbb355"
        ),
        (
            "full legacy field set",
            .object([
                "manifest_version": .number(1), "name": .string("my-app"), "runner": .string("docker-compose"),
                "docker_compose_file": .string("docker-compose.yml"),
                "docker_config": .object(["registry": .string("docker.io"), "username": .string("myuser"), "token_key": .string("token123")]),
                "features": .array([.string("legacy-feature")]), "public_logs": .bool(true), "public_sysinfo": .bool(false),
                "public_tcbinfo": .bool(true), "kms_enabled": .bool(true), "gateway_enabled": .bool(false), "tproxy_enabled": .bool(true),
                "local_key_provider_enabled": .bool(true), "key_provider": .string("kms"), "key_provider_id": .string("abcd1234"),
                "allowed_envs": .array([.string("NODE_ENV"), .string("PORT")]), "no_instance_id": .bool(false), "secure_time": .bool(true),
                "pre_launch_script": .string("echo 'Starting...'"),
            ]),
            "9e16e3de034ac9537fd436c3a579785450dde60508c288ffc11bd90adfbbdcdf"
        ),
        (
            "non-ASCII values stay raw UTF-8",
            .object(["runner": .string("docker-compose"), "text": .string("你好世界"), "description": .string("🚀 Deploy")]),
            "735ef5a6a9ac2405dda08948b551c9c7b529f4e4b790d6784ff5e2ee2e394f41"
        ),
        (
            "nested objects sorted, arrays kept in order",
            .object([
                "runner": .string("docker-compose"), "docker_compose_file": .string("docker-compose.yml"),
                "port_policy": .object([
                    "restrict_mode": .bool(true),
                    "ports": .array([.object(["pp": .bool(true), "port": .number(443)]), .object(["pp": .bool(false), "port": .number(8080)])]),
                ]),
            ]),
            "6be823decce06179698ee6fd087d82951c21ba6a24ba6419a6801b0be1ce2bdc"
        ),
    ]

    @Test("The dstack SDKs' reference manifests hash to their published compose hashes", arguments: 0..<sdkVectors.count)
    func sdkVector(_ index: Int) {
        let vector = Self.sdkVectors[index]
        #expect(ComposeHash.of(CanonicalJSON.encode(vector.manifest)).hexString == vector.hash, "\(vector.name)")
    }

    static let demoCompose = "services:\n  app:\n    image: nginx@sha256:" + String(repeating: "ab", count: 32)
        + "\n    environment:\n      TOKEN: ${TOKEN:-}\n      PRICE: $$5\n"

    @Test("A compose file becomes exactly the manifest dstack's tools write, in the SDKs' deterministic form")
    func builder() {
        let manifest = AppCompose(name: "demo", dockerComposeFile: Self.demoCompose, allowedEnvs: ["TOKEN"])
        // Written out (from Python's json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)),
        // so this pins the bytes and not the code that produced them.
        let expected = #"{"allowed_envs":["TOKEN"],"docker_compose_file":"services:\n  app:\n    image: nginx@sha256:abababababababababababababababababababababababababababababababab\n    environment:\n      TOKEN: ${TOKEN:-}\n      PRICE: $$5\n","gateway_enabled":true,"key_provider_id":"","kms_enabled":true,"local_key_provider_enabled":false,"manifest_version":2,"name":"demo","no_instance_id":false,"public_logs":false,"public_sysinfo":true,"runner":"docker-compose","secure_time":false}"#
        #expect(String(decoding: manifest.encoded, as: UTF8.self) == expected)
        #expect(manifest.composeHash.hexString == "29b9ce6f9884f6b2a537e18921da37b12548330d7152881803a44075fd214b04")
    }

    @Test("key_provider and pre_launch_script appear only when set; an empty script is left out")
    func optionalFields() {
        var manifest = AppCompose(name: "demo", dockerComposeFile: "services: {}\n", allowedEnvs: [])
        #expect(manifest.json["key_provider"] == nil && manifest.json["pre_launch_script"] == nil)
        manifest.preLaunchScript = ""
        #expect(manifest.json["pre_launch_script"] == nil)
        let plain = manifest.composeHash
        manifest.preLaunchScript = "echo hi\n"
        manifest.keyProvider = "kms"
        #expect(manifest.json["pre_launch_script"] == .string("echo hi\n") && manifest.json["key_provider"] == .string("kms"))
        #expect(manifest.composeHash != plain)
    }

    @Test("Every setting is measured: flipping any one changes the compose hash")
    func everySettingCounts() {
        let base = AppCompose(name: "demo", dockerComposeFile: Self.demoCompose, allowedEnvs: ["TOKEN"])
        let variants: [(inout AppCompose) -> Void] = [
            { $0.name = "demo2" }, { $0.dockerComposeFile += " " }, { $0.allowedEnvs = [] }, { $0.allowedEnvs = ["TOKEN", "OTHER"] },
            { $0.kmsEnabled.toggle() }, { $0.gatewayEnabled.toggle() }, { $0.localKeyProviderEnabled.toggle() }, { $0.keyProviderID = "00" },
            { $0.publicLogs.toggle() }, { $0.publicSysinfo.toggle() }, { $0.noInstanceID.toggle() }, { $0.secureTime.toggle() },
        ]
        var hashes: Set<[UInt8]> = [base.composeHash]
        for change in variants {
            var variant = base
            change(&variant)
            hashes.insert(variant.composeHash)
        }
        #expect(hashes.count == variants.count + 1)
    }

    @Test("The compose hash is of the bytes as given: a trailing newline is another application")
    func bytesExactly() {
        let manifest = AppCompose(name: "demo", dockerComposeFile: "services: {}\n", allowedEnvs: [])
        #expect(ComposeHash.of(manifest.encoded) == manifest.composeHash)
        #expect(ComposeHash.of(manifest.encoded + [0x0A]) != manifest.composeHash)
        #expect(ComposeHash.of(Array("".utf8)).hexString == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test("Interpolated variables: $NAME and ${NAME…} forms, not $$ escapes, not whole-line comments, sorted once each")
    func referencedVariables() {
        let compose = """
            # a comment mentioning $IGNORED and ${ALSO_IGNORED}
            services:
              app:
                environment:
                  A: ${B_SECRET:?must be set}
                  C: $PLAIN and ${WITH_DEFAULT:-x} and ${WITH_DEFAULT}
                  PRICE: $$5 and $$NOT_A_VARIABLE
                  NESTED: ${OUTER:-${INNER}}
                  EDGE: $1 ${} $
            """
        #expect(AppCompose.referencedVariables(in: compose) == ["B_SECRET", "INNER", "OUTER", "PLAIN", "WITH_DEFAULT"])
    }
}
