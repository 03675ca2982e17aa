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
        .target(name: "Jail", dependencies: ["CJailShims"], swiftSettings: strict),
        .executableTarget(name: "oauth3-jail", dependencies: ["Jail"], swiftSettings: strict),

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
            ],
            swiftSettings: strict
        ),

        .testTarget(
            name: "SkillManifestTests",
            dependencies: ["SkillManifest", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: strict
        ),
        .testTarget(name: "JailTests", dependencies: ["Jail", "oauth3-jail"], swiftSettings: strict),
        .testTarget(
            name: "SandboxTests",
            dependencies: ["Sandbox", "SkillManifest", "oauth3-jail", "oauth3-enclave"],
            swiftSettings: strict
        ),
    ]
)
