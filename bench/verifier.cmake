# Verifier benchmark (included by bench/CMakeLists.txt): bpfvm's verification time per program next to
# the kernel's (BPF_PROG_LOAD, log_level BPF_LOG_STATS) for the examples, tests/verifier/accept and the
# large clang-built programs of bench/programs_verifier/.
if(NOT TARGET bpfvm_api OR NOT TARGET bpfvm_verifier)
  return()
endif()
if(NOT BPFVM_BPF_CLANG)
  message(WARNING "bench/: no clang found; bench_verifier is not built")
  return()
endif()

set(verifier_bench_src ${CMAKE_CURRENT_SOURCE_DIR}/programs_verifier)
set(verifier_bench_out ${CMAKE_CURRENT_BINARY_DIR}/programs_verifier)
set(verifier_bench_programs unrolled_parse bounded_loops state_machine)
list(TRANSFORM verifier_bench_programs PREPEND ${verifier_bench_src}/)
list(TRANSFORM verifier_bench_programs APPEND .bpf.c)
bpfvm_add_bpf_objects(bpfvm_verifier_bench_programs OUTPUT_DIR ${verifier_bench_out} SOURCES ${verifier_bench_programs})

# The raw bpf() wrappers and the suite's helper/map set are compiled in (not linked from tests/), so the
# bench builds without tests.
bpfvm_add_bench(bench_verifier
  SOURCES bench_verifier.cpp
          ${PROJECT_SOURCE_DIR}/tests/kernel/kernel_oracle.cpp
          ${PROJECT_SOURCE_DIR}/tests/runtime/kernel_object.cpp
          ${PROJECT_SOURCE_DIR}/tests/verifier/verifier_test_support.cpp
          ${PROJECT_SOURCE_DIR}/tests/verifier/complexity_programs.cpp
  LIBS bpfvm_api bpfvm_verifier bpfvm_loader bpfvm_vm)
target_include_directories(bench_verifier PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_definitions(bench_verifier PRIVATE
  BPFVM_EXAMPLES_DIR="${BPFVM_EXAMPLES_DIR}" BPFVM_VERIFIER_BENCH_PROGRAMS_DIR="${verifier_bench_out}")
add_dependencies(bench_verifier bpfvm_verifier_bench_programs)
if(TARGET bpfvm_examples)
  add_dependencies(bench_verifier bpfvm_examples)
endif()

# bench_jit_vs_kernel's compile/unrolled_parse: compile time of a large clang-built program (4,335
# insns). Here, because this file names the objects and is included after jit_vs_kernel.cmake.
if(TARGET bench_jit_vs_kernel)
  target_compile_definitions(bench_jit_vs_kernel PRIVATE BPFVM_VERIFIER_BENCH_PROGRAMS_DIR="${verifier_bench_out}")
  add_dependencies(bench_jit_vs_kernel bpfvm_verifier_bench_programs)
endif()
