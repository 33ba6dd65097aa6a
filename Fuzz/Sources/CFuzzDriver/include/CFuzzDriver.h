#ifndef CFUZZDRIVER_H
#define CFUZZDRIVER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver, callable from a program that has its own `main` (LLVM 12+, in libclang_rt.fuzzer).
/// SwiftPM names an executable's entry point itself (`--defsym main=<Module>_main`), so libFuzzer's `main`
/// is never linked: each fuzz target's main.swift calls this instead.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
