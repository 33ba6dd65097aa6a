import CFuzzDriver
import FuzzTargets

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libFuzzer's entry point for the `keys` target.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.keys.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

// SwiftPM links an executable with its own entry point (`--defsym main=<module>_main`), so libFuzzer's `main`
// is never used: this one starts its driver on the entry point above. Build with `-sanitize=fuzzer`
// (scripts/fuzz does); saved inputs also replay without libFuzzer through fuzz-replay.
FuzzTarget.keys.prepare()
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
