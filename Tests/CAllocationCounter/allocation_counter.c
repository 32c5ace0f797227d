#include "allocation_counter.h"

#include <stddef.h>

// glibc's own allocators, which these wrappers forward to.
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

// Per thread, so that only the thread under test is counted and nothing is shared.
static _Thread_local int counting;
static _Thread_local long count;

void mast_allocation_count_start(void) { count = 0; counting = 1; }
long mast_allocation_count_stop(void) { counting = 0; return count; }

void *malloc(size_t size) { count += counting; return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { count += counting; return __libc_calloc(n, size); }
void *realloc(void *pointer, size_t size) { count += counting; return __libc_realloc(pointer, size); }
void *aligned_alloc(size_t alignment, size_t size) { count += counting; return __libc_memalign(alignment, size); }
void *memalign(size_t alignment, size_t size) { count += counting; return __libc_memalign(alignment, size); }
int posix_memalign(void **out, size_t alignment, size_t size) {
    count += counting;
    void *pointer = __libc_memalign(alignment, size);
    if (!pointer) return 12;  // ENOMEM
    *out = pointer;
    return 0;
}
