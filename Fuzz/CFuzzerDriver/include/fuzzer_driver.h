#ifndef MAST_FUZZER_DRIVER_H
#define MAST_FUZZER_DRIVER_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

/// libFuzzer's driver (linked by `-sanitize=fuzzer`): runs `callback` on generated inputs,
/// taking libFuzzer's usual command-line flags.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

/// An anonymous in-memory file (memfd_create, which Swift's Glibc module does not show).
static inline int mast_fuzz_memory_file(void) { return memfd_create("mast-fuzz", 0); }

#endif
