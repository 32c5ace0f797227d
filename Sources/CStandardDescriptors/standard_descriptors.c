#include "standard_descriptors.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

// Written once, by the constructor below, before main; only read after.
static int closed_at_start;

// Runs before main, before the Swift runtime, Dispatch or NIO open anything. A standard
// descriptor closed by the caller (`mast-tagger run <&-`) would otherwise be the number the
// next open() returns: an internal eventfd then read as standard input (EINVAL), or a socket
// written to as standard output. /dev/null holds the number instead, and the commands are told
// (mast_closed_standard_descriptors) so they can refuse or warn rather than lose records.
__attribute__((constructor)) static void reserve_standard_descriptors(void) {
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
        closed_at_start |= 1 << fd;
        int null = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (null >= 0 && null != fd) {
            dup2(null, fd);
            close(null);
        }
    }
}

int mast_closed_standard_descriptors(void) { return closed_at_start; }
