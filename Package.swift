// swift-tools-version:6.2
import PackageDescription

/// Settings every Swift target gets (applied in one loop at the end, as swift-asn1 and swift-log do).
let sharedSwiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "jwtsift",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "jwtsift", targets: ["JWTSiftCLI"]),
        .library(name: "SiftEngine", targets: ["SiftEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // MARK: - C system libraries: each is imported by exactly one Swift wrapper target.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // MARK: - Libraries, one per job.
        /// The only importer of COpenSSL: digests, HMAC, public keys, signature checks.
        .target(name: "JOSECrypto", dependencies: ["COpenSSL"]),
        /// The only importer of CZlib: files, directories, stdin, gzip → bounded line chunks.
        .target(name: "LogInput", dependencies: ["CZlib"]),
        /// The hand-written byte scanner: tokens, timestamps, HTTP status, error phrases.
        .target(name: "JWTScan", dependencies: ["JOSECrypto"]),
        /// Keys, the verdict and parallel verification: decides why each token failed.
        .target(name: "JWTVerify", dependencies: ["JWTScan", "JOSECrypto"]),
        /// The findings database: schema, migrations and the one writer (the only importer of `CSQLite`).
        .target(name: "FindingsStore", dependencies: ["CSQLite"]),
        /// Reports from the findings database: SQL aggregations into sections, rendered as text, Markdown, JSON,
        /// CSV and self-contained HTML.
        .target(name: "FindingsReport", dependencies: ["FindingsStore", "JWTScan"]),
        /// Wires input → scan → verify → output for the `scan` and `inspect` commands.
        .target(name: "SiftEngine", dependencies: ["LogInput", "JWTScan", "JWTVerify", "JOSECrypto", "FindingsStore"]),
        /// The thin command-line front end.
        .executableTarget(
            name: "JWTSiftCLI",
            dependencies: [
                "SiftEngine", "JWTVerify", "JWTScan", "LogInput", "FindingsStore", "FindingsReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        /// Verification throughput for scripts/bench verify (not installed; not part of the CLI).
        .executableTarget(name: "JWTSiftBench", dependencies: ["JWTVerify", "JWTScan", "JOSECrypto", "FindingsStore"]),

        // MARK: - Tests (Swift Testing).
        .testTarget(name: "JWTScanTests", dependencies: ["JWTScan"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "JWTVerifyTests", dependencies: ["JWTVerify", "JWTScan", "JOSECrypto"], resources: [.copy("Fixtures")]),
        .testTarget(name: "LogInputTests", dependencies: ["LogInput"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "SiftEngineTests",
            dependencies: [
                "SiftEngine", "JWTScan", "JWTVerify", "JOSECrypto", "LogInput", "FindingsStore", "FindingsReport", "JWTSiftCLI",
            ],
            resources: [.copy("Fixtures")]
        ),
    ]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + sharedSwiftSettings
}
