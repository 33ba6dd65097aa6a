// The declaration in include/CFuzzDriver.h is all this target provides; libclang_rt.fuzzer defines the function.
#include "CFuzzDriver.h"
