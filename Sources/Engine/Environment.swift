// Threads and OpenBLAS's kernel choice.
//
// OpenBLAS (Debian's build is DYNAMIC_ARCH) picks its kernels once, in the library constructor
// that runs when libopenblas is loaded — before main(). It reads OPENBLAS_CORETYPE there, so a
// setenv() from Swift comes too late for this process: the variable has to be in the environment
// when the process starts. `prepareEnvironment()` therefore re-executes the program
// (/proc/self/exe, same argv) with OPENBLAS_CORETYPE set, once, when
//   * the user has not set OPENBLAS_CORETYPE (an explicit choice always wins),
//   * the CPU has AVX-512 (avx512f in /proc/cpuinfo), and
//   * OpenBLAS did not already pick the wanted core (no pointless exec).
// LSTV_ENGINE_REEXEC guards against loops. Call it first thing in main(), before threads exist.
// Verify with `Engine.blasCoreName` (openblas_get_corename).

import COpenBLAS
import Foundation

public enum Engine {
    /// OpenBLAS's kernel set in this process, e.g. "SkylakeX", "Haswell", "Cooperlake".
    public static var blasCoreName: String { String(cString: openblas_get_corename()) }

    /// True when /proc/cpuinfo lists avx512f.
    public static var cpuHasAVX512: Bool {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
        for line in info.split(separator: "\n") where line.hasPrefix("flags") {
            return line.split(separator: " ").contains("avx512f")
        }
        return false
    }

    public enum EnvironmentAction: Equatable, Sendable {
        /// Nothing to do; the reason says why.
        case unchanged(String)
        /// execv failed; the process goes on with OpenBLAS's own choice.
        case reexecFailed(String)
    }

    /// Sets OPENBLAS_CORETYPE=`coreType` and re-executes the process when that is useful (see above).
    /// Returns only when no re-exec happened. Linux only; elsewhere it does nothing.
    @discardableResult
    public static func prepareEnvironment(coreType: String = "SkylakeX") -> EnvironmentAction {
        #if os(Linux)
        if getenv("LSTV_ENGINE_REEXEC") != nil {
            let set = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) } ?? "-"
            return .unchanged("re-executed with OPENBLAS_CORETYPE=\(set); OpenBLAS core \(blasCoreName)")
        }
        if let set = getenv("OPENBLAS_CORETYPE") {
            return .unchanged("OPENBLAS_CORETYPE=\(String(cString: set)) set by the user; OpenBLAS core \(blasCoreName)")
        }
        guard cpuHasAVX512 else { return .unchanged("no AVX-512; OpenBLAS core \(blasCoreName)") }
        if blasCoreName.lowercased() == coreType.lowercased() {
            return .unchanged("OpenBLAS already uses \(blasCoreName)")
        }
        setenv("OPENBLAS_CORETYPE", coreType, 1)
        setenv("LSTV_ENGINE_REEXEC", "1", 1)
        fflush(stdout)
        fflush(stderr)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        let err = String(cString: strerror(errno))
        unsetenv("OPENBLAS_CORETYPE")
        unsetenv("LSTV_ENGINE_REEXEC")
        return .reexecFailed("execv /proc/self/exe: \(err); OpenBLAS core \(blasCoreName)")
        #else
        return .unchanged("not Linux")
        #endif
    }
}
