# bpfvm JIT vs kernel JIT (included by bench/CMakeLists.txt): the XDP programs of bench/programs/,
# compiled by clang for the BPF target, and the same kernels compiled natively for the "native C" column.
if(NOT TARGET bpfvm_jit OR NOT TARGET bpfvm_api)
  return()
endif()
if(NOT BPFVM_BPF_CLANG)
  message(WARNING "bench/: no clang found; bench_jit_vs_kernel is not built")
  return()
endif()

set(bench_program_dir ${CMAKE_CURRENT_SOURCE_DIR}/programs)
set(bench_program_out ${CMAKE_CURRENT_BINARY_DIR}/programs)
set(bench_programs empty primes memcpy strcmp switch log2 map parse checksum
                   branches popcount_loop calls strcmp64 accum8 mixed csum16
                   alu_chain alu32 divmod murmur fnv1a fletcher jhash rotate bswap
                   strlen saturate stride adler32 spill16 nested sort rank
                   xorshift swar bitmap ctz signed call_deep rc4 matmul memcmp8
                   binary_search)
list(TRANSFORM bench_programs PREPEND ${bench_program_dir}/)
list(TRANSFORM bench_programs APPEND .bpf.c)
bpfvm_add_bpf_objects(bpfvm_bench_programs OUTPUT_DIR ${bench_program_out} SOURCES ${bench_programs}
                      DEPENDS ${bench_program_dir}/bench_kernels.h ${bench_program_dir}/bench_kernels_classes.h ${bench_program_dir}/bench_xdp.h)

# The "native C" column is the physical limit: the kernels compiled by clang -O2 for the host (the
# same clang that builds the BPF objects), whatever compiler builds the rest.
set(native_kernels_obj ${bench_program_out}/native_kernels.o)
add_custom_command(OUTPUT ${native_kernels_obj}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${bench_program_out}
  COMMAND ${BPFVM_BPF_CLANG} -O2 -fPIE -Wall -Werror -c ${bench_program_dir}/native_kernels.c -o ${native_kernels_obj}
  DEPENDS ${bench_program_dir}/native_kernels.c ${bench_program_dir}/native_kernels.h
          ${bench_program_dir}/bench_kernels.h ${bench_program_dir}/bench_kernels_classes.h
  COMMENT "clang -O2 bench/programs/native_kernels.c"
  VERBATIM)
set_source_files_properties(${native_kernels_obj} PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)

# The raw bpf() wrappers are compiled in (not linked from tests/), so the bench builds without tests.
bpfvm_add_bench(bench_jit_vs_kernel
  SOURCES bench_jit_vs_kernel.cpp ${native_kernels_obj} ${PROJECT_SOURCE_DIR}/tests/kernel/kernel_oracle.cpp
  LIBS bpfvm_api bpfvm_loader bpfvm_helpers bpfvm_jit bpfvm_vm)
target_compile_definitions(bench_jit_vs_kernel PRIVATE BPFVM_BENCH_PROGRAMS_DIR="${bench_program_out}")
add_dependencies(bench_jit_vs_kernel bpfvm_bench_programs)
if(BPFVM_EXAMPLES_DIR AND TARGET bpfvm_examples)
  # A ~1,000-instruction example for compile time (small programs are dominated by per-compile costs).
  target_compile_definitions(bench_jit_vs_kernel PRIVATE BPFVM_EXAMPLES_DIR="${BPFVM_EXAMPLES_DIR}")
  add_dependencies(bench_jit_vs_kernel bpfvm_examples)
endif()
