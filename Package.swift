// swift-tools-version: 6.1
import PackageDescription

/// Strict Swift 6 everywhere; the upcoming features keep imports explicit.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "oauth3-enclave",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "oauth3-enclave", targets: ["oauth3-enclave"]),
        .executable(name: "oauth3-jail", targets: ["oauth3-jail"]),
        .executable(name: "oauth3", targets: ["oauth3"]),
        .library(name: "SkillManifest", targets: ["SkillManifest"]),
        .library(name: "Sandbox", targets: ["Sandbox"]),
        .library(name: "OAuth3Wire", targets: ["OAuth3Wire"]),
        .library(name: "OAuth3Client", targets: ["OAuth3Client"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // Skill headers: parse and validate, no I/O.
        .target(name: "SkillManifest", swiftSettings: strict),

        // The jail's plan, pure: its configuration and command line, the job claim, the environment block,
        // the filesystem plan, the seccomp policy, its failures. No C: the daemon links this, not the layers.
        .target(name: "JailPlan", swiftSettings: strict),
        // The jail's layers, applied between the daemon and Deno. Linked only into `oauth3-jail` (and the
        // tests); the daemon side knows the jail only through `JailPlan`, so only `oauth3-jail` links
        // libseccomp and libcap.
        .target(name: "CJailShims"),
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CCap", pkgConfig: "libcap", providers: [.apt(["libcap-dev"])]),
        .target(name: "Jail", dependencies: ["JailPlan", "CJailShims", "CSeccomp", "CCap"], swiftSettings: strict),
        .executableTarget(name: "oauth3-jail", dependencies: ["Jail"], swiftSettings: strict),
        // A C program the escape tests run inside the jail, to try system calls Deno cannot reach.
        .executableTarget(name: "jail-probe"),

        // Per-job egress proxy: the only way out of a job's network namespace (NIO; no sandbox knowledge).
        .target(
            name: "Egress",
            dependencies: [
                "SkillManifest", "OAuth3Wire", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                // TLS interception for jobs holding bound secrets: a per-job CA, NIO's HTTP/1.1 codec.
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict
        ),

        // Manifest + limits -> jail + Deno invocation, supervision, classification, redaction.
        .target(
            name: "Sandbox",
            dependencies: [
                "SkillManifest", "JailPlan", "Egress", "OAuth3Wire",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),

        // Pure verification: quote parsing, DCAP chain and TCB checks, event-log replay. swift-crypto,
        // swift-certificates and OAuth3Wire (no dependencies) only, so an auditor's tool or a client can ship it alone.
        .target(
            name: "DCAPVerifier",
            dependencies: [
                "OAuth3Wire", .product(name: "Crypto", package: "swift-crypto"), .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict
        ),
        // Quote providers (the dstack guest agent over its socket; the development agent) and result binding.
        .target(
            name: "Attestation",
            dependencies: [
                "DCAPVerifier", "OAuth3Wire", "Consent", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"), .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict
        ),
        // The development guest agent's HTTP server on a unix socket.
        .target(
            name: "DevGuestAgent",
            dependencies: ["Attestation", "DCAPVerifier", .product(name: "Hummingbird", package: "hummingbird")],
            swiftSettings: strict
        ),
        // The JSON bodies of the API and the attested result (the sandbox's RunResult and network transcript,
        // the claims, the attestation), shared by the sandbox, the server and the client; model only.
        .target(name: "OAuth3Wire", swiftSettings: strict),
        // Pure consent verification: the canonical consent digest, WebAuthn registration and assertion checks
        // (CBOR/COSE reading, ES256 and Ed25519). swift-crypto and OAuth3Wire only, so `verify` and any
        // auditor's tool can check a person's passkey signature over what was approved.
        .target(name: "Consent", dependencies: ["OAuth3Wire", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: strict),
        // Sealed secrets: AES-GCM under a key from a key provider.
        .target(name: "Vault", dependencies: ["Attestation", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: strict),
        // Tenants, jobs, sessions, trusted code, sealed secrets, the audit chain: SQLite through GRDB (one
        // daemon), or PostgreSQL through PostgresNIO (replicas sharing one database).
        .target(
            name: "Store",
            dependencies: [
                "SkillManifest", "Vault", "OAuth3Wire", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict
        ),
        // The HTTP API (Hummingbird): the composition root, where a manifest becomes a jail and a policy.
        .target(
            name: "Gateway",
            dependencies: [
                "SkillManifest", "Sandbox", "Egress", "Store", "Vault", "OAuth3Wire", "Attestation", "DCAPVerifier", "Consent",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        // Swift client for the API, used by the `oauth3` CLI and the tests; never imports server modules.
        // AsyncHTTPClient (NIO) rather than Foundation's URLSession, which on Linux spins a core while a
        // long-poll waits.
        .target(
            name: "OAuth3Client",
            dependencies: [
                "OAuth3Wire", "DCAPVerifier", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "oauth3",
            dependencies: ["OAuth3Client", "OAuth3Wire", "DCAPVerifier", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "oauth3-enclave",
            dependencies: [
                "SkillManifest", "Sandbox", "JailPlan", "Gateway", "Store", "Vault", "Attestation", "DevGuestAgent", "DCAPVerifier", "Egress", "Consent",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "X509", package: "swift-certificates"), .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                // `verify --pccs` fetches collateral with it: not URLSession, whose libcurl every start would load.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),

        .testTarget(
            name: "SkillManifestTests",
            dependencies: ["SkillManifest", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: strict
        ),
        // Shared by the test targets: where the real binaries are, and how to run a skill through them.
        .target(
            name: "TestSupport",
            dependencies: [
                "Sandbox", "SkillManifest", "Jail", "Egress", "OAuth3Wire", .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(
            name: "JailTests", dependencies: ["Jail", "Sandbox", "TestSupport", "oauth3-jail", "jail-probe"], swiftSettings: strict),
        .testTarget(
            name: "SandboxTests",
            dependencies: ["Sandbox", "Egress", "SkillManifest", "OAuth3Wire", "TestSupport", "oauth3-jail", "oauth3-enclave"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "Store", "Vault", "Sandbox", "OAuth3Wire", "OAuth3Client", "TestSupport", "oauth3-jail", "oauth3", "oauth3-enclave",
                "Attestation", "DevGuestAgent", "DCAPVerifier", "Consent",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DCAPVerifierTests",
            dependencies: [
                "DCAPVerifier", "OAuth3Wire", "TestSupport", .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // The WebAuthn verifier against vectors made independently (Python `cryptography`), and its refusals.
        .testTarget(
            name: "ConsentTests", dependencies: ["Consent", "OAuth3Wire", "TestSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
        .testTarget(
            name: "StoreTests",
            dependencies: [
                "Store", "Vault", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "EgressTests",
            dependencies: [
                "Egress", "Sandbox", "SkillManifest", "OAuth3Wire", "TestSupport", "oauth3-jail",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict),
        // dstack/: the Dockerfile and compose file against the daemon's configuration, app-compose.json and its hash.
        .testTarget(
            name: "DeployTests",
            dependencies: [
                "Attestation", "DCAPVerifier", "Gateway", "OAuth3Wire", "OAuth3Client", "TestSupport", "oauth3-enclave", .product(name: "Yams", package: "Yams"),
                .product(name: "Subprocess", package: "swift-subprocess"), .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        // The links of README.md, docs/ and DEPLOY.md.
        .testTarget(name: "DocumentationTests", swiftSettings: strict),
        // Real escapes attempted from inside the sandbox, in the realistic and the layers-only mode.
        .testTarget(
            name: "EscapeTests",
            dependencies: ["Sandbox", "Egress", "SkillManifest", "Jail", "OAuth3Wire", "TestSupport", "oauth3-jail", "jail-probe"],
            swiftSettings: strict
        ),
    ]
)
