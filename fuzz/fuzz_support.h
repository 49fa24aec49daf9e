// What both harnesses need around the code under test: a scratch directory in memory, writing an
// input to a file, a fatal finding with its reason, and counters printed at exit (the CI test checks
// that the seeds reach the paths they are meant to reach).
#ifndef FUZZ_SUPPORT_H
#define FUZZ_SUPPORT_H

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace fuzz {

// A private directory under $LSTV_FUZZ_SCRATCH (or /dev/shm, $TMPDIR, /tmp), removed at exit with
// what is left in it.
std::string scratchDirectory();

// Writes bytes to path (created or truncated); aborts when it cannot (the harness cannot go on).
void writeFile(const std::string &path, const uint8_t *data, size_t size);

// A finding that is not a crash (a hang, a broken promise of the shim): print the reason, abort, so
// that libFuzzer writes the input as a crash artefact.
[[noreturn]] void fail(const std::string &reason);

// A named count, printed to stderr at exit as "fuzz-count: <name>: <n>".
class Counter {
public:
    explicit Counter(const char *name);
    void add() { value_.fetch_add(1, std::memory_order_relaxed); }
    uint64_t value() const { return value_.load(std::memory_order_relaxed); }
    const char *name() const { return name_; }
private:
    const char *name_;
    std::atomic<uint64_t> value_{0};
};

}  // namespace fuzz
#endif
