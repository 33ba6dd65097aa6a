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
        .library(name: "SiftPipeline", targets: ["SiftPipeline"]),
        // The libraries the fuzz targets in Fuzz/ call (a separate package that depends on this one by path).
        .library(name: "SiftCore", targets: ["SiftCore"]),
        .library(name: "LogInput", targets: ["LogInput"]),
        .library(name: "JWTScan", targets: ["JWTScan"]),
        .library(name: "JOSECrypto", targets: ["JOSECrypto"]),
        .library(name: "JWTVerify", targets: ["JWTVerify"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // --config files (YAML): libyaml (C, vendored by Yams) builds in seconds and reports lines and columns.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // MARK: - C system libraries: each is imported by exactly one Swift wrapper target.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        /// A SIGBUS handler for read-only file mappings (a file truncated under its mapping reads as zeros and is
        /// reported, never a crash); C because a signal handler may only touch atomics and system calls.
        .target(name: "CMapGuard"),

        // MARK: - Libraries, one per job, bottom-up: vocabulary → input | scan → verify → store → report → pipeline → CLI.
        /// The shared words, dependency-free: causes and their order, fingerprints, signature status, flags,
        /// verdicts, civil time and durations, zones, JSON and base64url codecs, number text, and the rollup
        /// facts (status class, minute, near-miss bound) with the SQL generated from them.
        .target(name: "SiftCore"),
        /// The only importer of COpenSSL: digests, HMAC, public keys, signature checks.
        .target(name: "JOSECrypto", dependencies: ["SiftCore", "COpenSSL"]),
        /// The only importer of CZlib and CMapGuard: files (mapped), directories, stdin, gzip → bounded line chunks.
        .target(name: "LogInput", dependencies: ["CZlib", "CMapGuard"]),
        /// The hand-written byte scanner, pure Swift: tokens, timestamps, HTTP status, error phrases.
        .target(name: "JWTScan", dependencies: ["SiftCore"]),
        /// Keys (files and their loading), the verdict, parallel analysis and the per-sighting judge.
        .target(name: "JWTVerify", dependencies: ["SiftCore", "JWTScan", "JOSECrypto", "LogInput"]),
        /// `--config`: the issuer configuration file (YAML, through Yams), checked key by key; reads nothing else.
        .target(
            name: "IssuerConfig",
            dependencies: ["SiftCore", "JWTVerify", "LogInput", .product(name: "Yams", package: "Yams")]),
        /// Where a run's keys come from, per issuer: files, and JWKS / OpenID discovery fetched over HTTPS
        /// (FoundationNetworking's URLSession) through an on-disk cache. The only module that touches the network.
        .target(name: "KeySources", dependencies: ["SiftCore", "JOSECrypto", "JWTVerify", "IssuerConfig"]),
        /// The findings database: schema, migrations and the one writer (the only importer of `CSQLite`).
        .target(name: "FindingsStore", dependencies: ["SiftCore", "CSQLite"]),
        /// Reports from the findings database: SQL aggregations into sections, rendered as text, Markdown, JSON,
        /// CSV and self-contained HTML.
        .target(name: "FindingsReport", dependencies: ["SiftCore", "FindingsStore"]),
        /// The pipeline: input → scan → verify → consumers (database, NDJSON), and `inspect`.
        .target(
            name: "SiftPipeline",
            dependencies: ["SiftCore", "LogInput", "JWTScan", "JWTVerify", "JOSECrypto", "FindingsStore"]),
        /// The thin command-line front end.
        .executableTarget(
            name: "JWTSiftCLI",
            dependencies: [
                "SiftPipeline", "SiftCore", "JWTVerify", "JWTScan", "LogInput", "FindingsStore", "FindingsReport",
                "IssuerConfig", "KeySources", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        /// Verification throughput for scripts/bench verify (not installed; not part of the CLI).
        .executableTarget(
            name: "JWTSiftBench", dependencies: ["SiftCore", "JWTVerify", "JWTScan", "JOSECrypto", "FindingsStore"]),

        // MARK: - Tests (Swift Testing): one target per library.
        /// What several test targets share (a deterministic generator of inputs); not part of any product.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "SiftCoreTests", dependencies: ["SiftCore"], exclude: ["Fixtures"]),
        .testTarget(name: "JOSECryptoTests", dependencies: ["JOSECrypto", "SiftCore"], exclude: ["Fixtures"]),
        .testTarget(
            name: "JWTScanTests", dependencies: ["JWTScan", "SiftCore", "JOSECrypto", "TestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "JWTVerifyTests", dependencies: ["JWTVerify", "JWTScan", "JOSECrypto", "SiftCore", "TestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(name: "LogInputTests", dependencies: ["LogInput", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "KeySourcesTests",
            dependencies: ["KeySources", "IssuerConfig", "JWTVerify", "JOSECrypto", "SiftCore"],
            exclude: ["Fixtures"]),
        .testTarget(name: "FindingsStoreTests", dependencies: ["FindingsStore", "SiftCore"]),
        .testTarget(name: "FindingsReportTests", dependencies: ["FindingsReport", "FindingsStore", "SiftCore"]),
        .testTarget(
            name: "SiftPipelineTests",
            dependencies: [
                "SiftPipeline", "SiftCore", "JWTScan", "JWTVerify", "JOSECrypto", "LogInput", "FindingsStore",
                "FindingsReport", "JWTSiftCLI",
            ],
            resources: [.copy("Fixtures")]
        ),
    ]
)

for target in package.targets where target.type != .system && target.name != "CMapGuard" {
    target.swiftSettings = (target.swiftSettings ?? []) + sharedSwiftSettings
}
