// swift-tools-version:6.2
import PackageDescription

/// libFuzzer targets for jwtsift's libraries. A package of its own, so the main package's `swift build` and
/// `swift test` never see the fuzzer flags. Build with `scripts/fuzz` (which passes
/// `-Xswiftc -sanitize=fuzzer,address`); `FuzzReplay` runs saved inputs through the same checks in a plain build.
/// A path dependency is named after its directory (a clone may be called anything): the parent of this one.
let mainPackage = String(Context.packageDirectory.split(separator: "/").dropLast().last ?? "jwtsift")
let targetNames = ["scanner", "json", "base64url", "keys", "timestamp", "status", "gzip", "token"]

let package = Package(
    name: "jwtsift-fuzz",
    platforms: [.macOS(.v15)],
    products: targetNames.map { .executable(name: "fuzz-\($0)", targets: ["Fuzz_\($0)"]) } + [
        .executable(name: "fuzz-replay", targets: ["FuzzReplay"])
    ],
    dependencies: [.package(path: "..")],
    targets: [
        /// Every target's body and its invariants; the entry points below only call into it.
        .target(
            name: "FuzzTargets",
            dependencies: [
                .product(name: "SiftCore", package: mainPackage),
                .product(name: "LogInput", package: mainPackage),
                .product(name: "JWTScan", package: mainPackage),
                .product(name: "JOSECrypto", package: mainPackage),
                .product(name: "JWTVerify", package: mainPackage),
            ]
        ),
        /// The declaration of libFuzzer's `LLVMFuzzerRunDriver`, which each target's `main` calls.
        .target(name: "CFuzzDriver"),
        /// Runs files or directories of inputs through a target without libFuzzer (plain `swift build`).
        .executableTarget(name: "FuzzReplay", dependencies: ["FuzzTargets"]),
    ]
        + targetNames.map {
            .executableTarget(name: "Fuzz_\($0)", dependencies: ["FuzzTargets", "CFuzzDriver"], path: "Entry/\($0)")
        }
)

for target in package.targets where target.name != "CFuzzDriver" {
    target.swiftSettings =
        (target.swiftSettings ?? []) + [
            .enableUpcomingFeature("ExistentialAny"),
            .enableUpcomingFeature("MemberImportVisibility"),
        ]
}
