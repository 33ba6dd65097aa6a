import CFuzzDriver
import FuzzTargets

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The `scanner` fuzz target: libFuzzer's driver with the target's body as its callback. Build it with
// `-sanitize=fuzzer` (scripts/fuzz does); saved inputs also replay without libFuzzer through fuzz-replay.
FuzzTarget.scanner.prepare()
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(
    LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        FuzzTarget.scanner.run(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    })
