#ifndef MAST_STANDARD_DESCRIPTORS_H
#define MAST_STANDARD_DESCRIPTORS_H

/// Bit n set: standard descriptor n (0 stdin, 1 stdout, 2 stderr) was closed when the process
/// started. It now refers to /dev/null, so nothing the process opens later can take its number.
int mast_closed_standard_descriptors(void);

#endif
