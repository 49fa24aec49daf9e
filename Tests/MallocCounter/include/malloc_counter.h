// Counts heap allocations made while counting is on, for the tests that prove a code path
// allocates nothing. The test executable's own malloc, calloc, realloc, memalign, aligned_alloc
// and posix_memalign stand in for glibc's (an executable's symbols come first in ELF lookup) and
// forward to glibc's allocator, so memory flows exactly as without them.
#pragma once
#include <stdint.h>

void malloc_counter_start(void);
/// Allocations (of any thread) since `malloc_counter_start`; counting stops.
int64_t malloc_counter_stop(void);
