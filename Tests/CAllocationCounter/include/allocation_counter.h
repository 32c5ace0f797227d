#ifndef MAST_ALLOCATION_COUNTER_H
#define MAST_ALLOCATION_COUNTER_H

/// Starts counting the heap allocations the calling thread makes (malloc, calloc, realloc and the
/// aligned allocators, which this library interposes for the test process).
void mast_allocation_count_start(void);
/// Stops counting and returns how many allocations the calling thread made since the start.
long mast_allocation_count_stop(void);

#endif
