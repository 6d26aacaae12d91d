# Map lookup benchmark (included by bench/CMakeLists.txt): one hash lookup (1M prefilled 8-byte keys)
# and one array lookup per run, in the kernel (BPF_PROG_TEST_RUN repeat) and in bpfvm (interpreter,
# JIT), each minus its empty-program baseline. Needs root for the kernel half (else it skips it).
find_program(BPFVM_BENCH_BPF_CLANG NAMES clang-14 clang)
if(BPFVM_BENCH_BPF_CLANG AND TARGET bpfvm_api AND BPFVM_TESTS)
  set(bench_maps_src ${PROJECT_SOURCE_DIR}/tests/runtime/programs/bench_maps.bpf.c)
  set(bench_maps_obj ${CMAKE_CURRENT_BINARY_DIR}/bench_maps.bpf.o)
  add_custom_command(
    OUTPUT ${bench_maps_obj}
    COMMAND ${BPFVM_BENCH_BPF_CLANG} -O2 -g -target bpf -Wall -Werror
            -I/usr/include/${CMAKE_LIBRARY_ARCHITECTURE} -c ${bench_maps_src} -o ${bench_maps_obj}
    DEPENDS ${bench_maps_src}
    COMMENT "BPF tests/runtime/programs/bench_maps.bpf.c"
    VERBATIM)
  add_custom_target(bench_maps_program DEPENDS ${bench_maps_obj})
  # The kernel oracle lives under tests/; its sources are compiled here so the bench does not depend on
  # the order in which CMake adds bench/ and tests/.
  bpfvm_add_bench(bench_maps SOURCES bench_maps.cpp
    ${PROJECT_SOURCE_DIR}/tests/kernel/kernel_oracle.cpp
    ${PROJECT_SOURCE_DIR}/tests/runtime/kernel_object.cpp
    LIBS bpfvm_api bpfvm_loader bpfvm_vm)
  add_dependencies(bench_maps bench_maps_program)
  target_compile_definitions(bench_maps PRIVATE BPFVM_BENCH_MAPS_OBJECT="${bench_maps_obj}")
endif()
