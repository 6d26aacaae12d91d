# Cross toolchain for an arm64 (AArch64) build on an x86-64 Debian host: gcc-aarch64-linux-gnu, the
# :arm64 multiarch libraries in /usr/lib/aarch64-linux-gnu, and qemu-user to run what was built.
# Usage: cmake -S . -B build-arm64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
# (benches are left out when the target has no Google Benchmark; tools/arm64-test builds and runs it all)
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Debian multiarch keeps target libraries under /usr/lib/aarch64-linux-gnu and the sysroot's libc
# under /usr/aarch64-linux-gnu; both are searched. Programs (clang for the BPF examples) are host
# tools. Header-only packages (Catch2's CMake config in /usr/lib/cmake) are arch-independent.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# The cross sysroot's kernel headers (linux-libc-dev-arm64-cross 6.1.4) predate uapi names bpfvm
# uses (BPF_F_IPV6, ...); linux-libc-dev:arm64 (6.1.x, multiarch) has them. Put only its kernel
# header trees first: a directory of symlinks, so glibc and libstdc++ still come from the sysroot.
set(_bpfvm_kernel_headers ${CMAKE_BINARY_DIR}/aarch64-kernel-headers)
if(EXISTS /usr/include/linux/bpf.h AND EXISTS /usr/include/aarch64-linux-gnu/asm)
  file(MAKE_DIRECTORY ${_bpfvm_kernel_headers})
  foreach(_tree linux asm-generic)
    if(NOT EXISTS ${_bpfvm_kernel_headers}/${_tree})
      file(CREATE_LINK /usr/include/${_tree} ${_bpfvm_kernel_headers}/${_tree} SYMBOLIC)
    endif()
  endforeach()
  if(NOT EXISTS ${_bpfvm_kernel_headers}/asm)
    file(CREATE_LINK /usr/include/aarch64-linux-gnu/asm ${_bpfvm_kernel_headers}/asm SYMBOLIC)
  endif()
  set(CMAKE_C_FLAGS_INIT "-isystem ${_bpfvm_kernel_headers}")
  set(CMAKE_CXX_FLAGS_INIT "-isystem ${_bpfvm_kernel_headers}")
endif()

# qemu-user 7.2 on these hosts hangs in fork() of a dynamically linked guest (the child never
# runs), while statically linked guests fork, exec and die of signals normally. Tests fork
# (W^X checks, conformance_driver), so every executable is linked statically.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# ctest, catch_discover_tests and add_test(COMMAND <target>) run target binaries through qemu.
find_program(BPFVM_QEMU_AARCH64 qemu-aarch64 REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${BPFVM_QEMU_AARCH64} -L /usr/aarch64-linux-gnu)
