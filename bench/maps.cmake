# Map lookup benchmark (included by bench/CMakeLists.txt): one hash lookup (1M prefilled 8-byte keys)
# and one array lookup per run, in the kernel (BPF_PROG_TEST_RUN repeat) and in bpfvm (interpreter,
# JIT), each minus its empty-program baseline. Needs root for the kernel half (else it skips it).
if(BPFVM_BPF_CLANG AND TARGET bpfvm_api AND BPFVM_TESTS)
  bpfvm_add_bpf_objects(bench_maps_program OUTPUT_DIR ${CMAKE_CURRENT_BINARY_DIR}
                        SOURCES ${PROJECT_SOURCE_DIR}/tests/runtime/programs/bench_maps.bpf.c)
  set(bench_maps_obj ${bench_maps_program_OBJECTS})
  # The kernel oracle lives under tests/; its sources are compiled here so the bench does not depend on
  # the order in which CMake adds bench/ and tests/.
  bpfvm_add_bench(bench_maps SOURCES bench_maps.cpp
    ${PROJECT_SOURCE_DIR}/tests/kernel/kernel_oracle.cpp
    ${PROJECT_SOURCE_DIR}/tests/runtime/kernel_object.cpp
    LIBS bpfvm_api bpfvm_loader bpfvm_vm)
  add_dependencies(bench_maps bench_maps_program)
  target_compile_definitions(bench_maps PRIVATE BPFVM_BENCH_MAPS_OBJECT="${bench_maps_obj}")
endif()
