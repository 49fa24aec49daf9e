/* Profiling aid (bench/ingest/profile.sh node-nosync): LD_PRELOAD shim that turns fsync,
 * fdatasync and sync_file_range into no-ops, to measure lstv-node's ingest path without the
 * cost of durability on the same file system. Never use it for anything but that measurement. */
#define _GNU_SOURCE
#include <sys/types.h>
int fsync(int fd) { (void)fd; return 0; }
int fdatasync(int fd) { (void)fd; return 0; }
int sync_file_range(int fd, off_t o, off_t n, unsigned int f) { (void)fd; (void)o; (void)n; (void)f; return 0; }
