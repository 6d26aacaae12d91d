# Verifier benchmark (included by bench/CMakeLists.txt): bpfvm's verification time per program next to
# the kernel's (BPF_PROG_LOAD, log_level BPF_LOG_STATS) for the examples, tests/verifier/accept and the
# large clang-built programs of bench/programs_verifier/.
if(NOT TARGET bpfvm_api OR NOT TARGET bpfvm_verifier)
  return()
endif()
find_program(BPFVM_BPF_CLANG NAMES clang-14 clang)
if(NOT BPFVM_BPF_CLANG)
  message(WARNING "bench/: no clang found; bench_verifier is not built")
  return()
endif()

set(verifier_bench_src ${CMAKE_CURRENT_SOURCE_DIR}/programs_verifier)
set(verifier_bench_out ${CMAKE_CURRENT_BINARY_DIR}/programs_verifier)
file(MAKE_DIRECTORY ${verifier_bench_out})
set(verifier_bench_objects)
foreach(name unrolled_parse bounded_loops state_machine)
  set(out ${verifier_bench_out}/${name}.bpf.o)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${BPFVM_BPF_CLANG} -O2 -g -target bpf -Wall -Werror
            -I/usr/include/${CMAKE_LIBRARY_ARCHITECTURE}
            -c ${verifier_bench_src}/${name}.bpf.c -o ${out}
    DEPENDS ${verifier_bench_src}/${name}.bpf.c
    COMMENT "BPF bench/programs_verifier/${name}.bpf.c"
    VERBATIM)
  list(APPEND verifier_bench_objects ${out})
endforeach()
add_custom_target(bpfvm_verifier_bench_programs DEPENDS ${verifier_bench_objects})

# The raw bpf() wrappers and the suite's helper/map set are compiled in (not linked from tests/), so the
# bench builds without tests.
bpfvm_add_bench(bench_verifier
  SOURCES bench_verifier.cpp
          ${PROJECT_SOURCE_DIR}/tests/kernel/kernel_oracle.cpp
          ${PROJECT_SOURCE_DIR}/tests/runtime/kernel_object.cpp
          ${PROJECT_SOURCE_DIR}/tests/verifier/verifier_test_support.cpp
  LIBS bpfvm_api bpfvm_verifier bpfvm_loader bpfvm_vm)
target_include_directories(bench_verifier PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_definitions(bench_verifier PRIVATE
  BPFVM_EXAMPLES_DIR="${BPFVM_EXAMPLES_DIR}" BPFVM_VERIFIER_BENCH_PROGRAMS_DIR="${verifier_bench_out}")
add_dependencies(bench_verifier bpfvm_verifier_bench_programs)
if(TARGET bpfvm_examples)
  add_dependencies(bench_verifier bpfvm_examples)
endif()
