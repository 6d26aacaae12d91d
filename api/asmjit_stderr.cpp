// libbpfvm.so only: the `stderr` asmjit's debug output uses, as a hidden variable the shared object can
// reach PC-relatively (Debian's libasmjit.a is -fPIE; see api/CMakeLists.txt). It holds the stream
// stderr pointed to when the library was loaded.
#include <cstdio>

extern "C" {
__attribute__((visibility("hidden"))) std::FILE* bpfvm_asmjit_stderr = stderr;
}
