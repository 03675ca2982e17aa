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
        .library(name: "SkillManifest", targets: ["SkillManifest"]),
        .library(name: "Sandbox", targets: ["Sandbox"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // Skill headers: parse and validate, no I/O.
        .target(name: "SkillManifest", swiftSettings: strict),

        // The jail's layers, applied between the daemon and Deno. Linked only into `oauth3-jail`
        // (and its tests); the daemon side knows the jail only through `JailConfiguration`.
        .target(name: "CJailShims"),
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CCap", pkgConfig: "libcap", providers: [.apt(["libcap-dev"])]),
        .target(name: "Jail", dependencies: ["CJailShims", "CSeccomp", "CCap"], swiftSettings: strict),
        .executableTarget(name: "oauth3-jail", dependencies: ["Jail"], swiftSettings: strict),
        // A C program the escape tests run inside the jail, to try system calls Deno cannot reach.
        .executableTarget(name: "jail-probe"),

        // Manifest + limits -> jail + Deno invocation, supervision, classification, redaction.
        .target(
            name: "Sandbox",
            dependencies: [
                "SkillManifest", "Jail",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),

        .executableTarget(
            name: "oauth3-enclave",
            dependencies: [
                "SkillManifest", "Sandbox", "Jail",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),

        .testTarget(
            name: "SkillManifestTests",
            dependencies: ["SkillManifest", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: strict
        ),
        // Shared by the test targets: where the real binaries are, and how to run a skill through them.
        .target(name: "TestSupport", dependencies: ["Sandbox", "SkillManifest", "Jail"], path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(
            name: "JailTests", dependencies: ["Jail", "Sandbox", "TestSupport", "oauth3-jail", "jail-probe"], swiftSettings: strict),
        .testTarget(
            name: "SandboxTests",
            dependencies: ["Sandbox", "SkillManifest", "TestSupport", "oauth3-jail", "oauth3-enclave"],
            swiftSettings: strict
        ),
        // Real escapes attempted from inside the sandbox, in the realistic and the layers-only mode.
        .testTarget(
            name: "EscapeTests",
            dependencies: ["Sandbox", "SkillManifest", "Jail", "TestSupport", "oauth3-jail", "jail-probe"],
            swiftSettings: strict
        ),
    ]
)
