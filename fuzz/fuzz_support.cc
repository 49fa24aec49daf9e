#include "fuzz_support.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <mutex>
#include <unistd.h>
#include <vector>

namespace fuzz {
namespace {

std::mutex countersMutex;
std::vector<Counter *> &counters() {
    static std::vector<Counter *> all;
    return all;
}

void printCounters() {
    std::lock_guard<std::mutex> lock(countersMutex);
    for (Counter *c : counters()) fprintf(stderr, "fuzz-count: %s: %llu\n", c->name(), (unsigned long long)c->value());
}

std::string scratch;
void removeScratch() {
    std::error_code ec;  // best effort at exit: a leftover directory under /dev/shm is only space
    std::filesystem::remove_all(scratch, ec);
}

}  // namespace

Counter::Counter(const char *name) : name_(name) {
    std::lock_guard<std::mutex> lock(countersMutex);
    if (counters().empty()) atexit(printCounters);
    counters().push_back(this);
}

std::string scratchDirectory() {
    if (!scratch.empty()) return scratch;
    // scripts/fuzz.sh names a parent it removes after the run: a harness that crashed (abort) has no
    // exit handlers to remove its own directory.
    const char *base = getenv("LSTV_FUZZ_SCRATCH");
    if (base == nullptr) base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    std::string pattern = std::string(base) + "/lstv-fuzz.XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr) fail("cannot create a scratch directory under " + std::string(base) + ": " + strerror(errno));
    scratch = buf.data();
    atexit(removeScratch);
    return scratch;
}

void writeFile(const std::string &path, const uint8_t *data, size_t size) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) fail("cannot write " + path + ": " + strerror(errno));
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail("cannot write " + path + ": " + strerror(errno));
        done += (size_t)n;
    }
    close(fd);
}

void fail(const std::string &reason) {
    fprintf(stderr, "fuzz-finding: %s\n", reason.c_str());
    abort();
}

}  // namespace fuzz
