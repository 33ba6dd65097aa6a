import CFuzzDriver
import FuzzTargets

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The `keys` fuzz target: libFuzzer's driver with the target's body as its callback. Build it with
// `-sanitize=fuzzer` (scripts/fuzz does); saved inputs also replay without libFuzzer through fuzz-replay.
FuzzTarget.keys.prepare()
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(
    LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        FuzzTarget.keys.run(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    })
