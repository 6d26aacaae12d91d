# JIT benchmark (included by bench/CMakeLists.txt): compile speed and run speed per variant.
if(TARGET bpfvm_jit)
  bpfvm_add_bench(bench_jit SOURCES bench_jit.cpp LIBS bpfvm_jit bpfvm_vm)
endif()
