# The installable library and its installation. bpfvm_static (libbpfvm.a) and bpfvm_shared
# (libbpfvm.so), exported as bpfvm::bpfvm_static and bpfvm::bpfvm, hold every module's objects and
# asmjit, so consumers need neither the module archives nor asmjit; libelf stays the system's (libelf1). Installs headers, both libraries,
# a CMake package (find_package(bpfvm)) and bpfvm.pc; tools/ installs the CLI.

# The modules of the root CMakeLists.txt's loop that exist in this tree, in data-flow order.
set(bpfvm_module_objects)
foreach(module vm maps helpers loader verifier jit api fuzz)
  if(TARGET bpfvm_${module})
    list(APPEND bpfvm_module_objects $<TARGET_OBJECTS:bpfvm_${module}>)
  endif()
endforeach()

find_package(asmjit CONFIG QUIET)
if(NOT TARGET asmjit::asmjit)
  find_library(BPFVM_ASMJIT_LIB asmjit REQUIRED)
  add_library(asmjit::asmjit UNKNOWN IMPORTED)
  set_target_properties(asmjit::asmjit PROPERTIES IMPORTED_LOCATION ${BPFVM_ASMJIT_LIB})
endif()

add_library(bpfvm_static STATIC ${bpfvm_module_objects})
add_library(bpfvm_shared SHARED ${bpfvm_module_objects} ${PROJECT_SOURCE_DIR}/api/asmjit_stderr.cpp)
add_library(bpfvm::bpfvm_static ALIAS bpfvm_static)
add_library(bpfvm::bpfvm ALIAS bpfvm_shared)
set_target_properties(bpfvm_static PROPERTIES OUTPUT_NAME bpfvm EXPORT_NAME bpfvm_static LINKER_LANGUAGE CXX
  ARCHIVE_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib)
set_target_properties(bpfvm_shared PROPERTIES OUTPUT_NAME bpfvm EXPORT_NAME bpfvm LINKER_LANGUAGE CXX
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
  LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib)
foreach(lib bpfvm_static bpfvm_shared)
  target_include_directories(${lib} INTERFACE
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(${lib} INTERFACE cxx_std_20)
endforeach()
# A C program linked by the C compiler needs the C++ runtime the archive's objects use; the loader
# reads objects with the system's libelf (which needs zlib), linked by name.
target_link_libraries(bpfvm_static INTERFACE $<$<LINK_LANGUAGE:C>:stdc++> m elf z)

# Shared: export only the public API (cmake/libbpfvm.version) and keep asmjit's symbols local.
#
# Debian's libasmjit.a is built -fPIE, not -fPIC: every reference is PC-relative, which is fine once
# --exclude-libs makes asmjit's symbols local, except one: DebugUtils::debugOutput/assertionFailed
# (globals.cpp.o) load glibc's `stderr` with R_X86_64_PC32, which a shared object cannot resolve.
# A copy of the archive with that reference renamed to a hidden variable of ours
# (api/asmjit_stderr.cpp) links; a build of asmjit with -fPIC would need none of this.
set(bpfvm_version_script ${PROJECT_SOURCE_DIR}/cmake/libbpfvm.version)
set(asmjit_for_shared ${PROJECT_BINARY_DIR}/lib/libasmjit_for_shared.a)
add_custom_command(OUTPUT ${asmjit_for_shared}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/lib
  COMMAND ${CMAKE_OBJCOPY} --redefine-sym stderr=bpfvm_asmjit_stderr $<TARGET_FILE:asmjit::asmjit> ${asmjit_for_shared}
  DEPENDS $<TARGET_FILE:asmjit::asmjit>
  COMMENT "asmjit for libbpfvm.so (stderr reference made local)"
  VERBATIM)
add_custom_target(bpfvm_asmjit_for_shared DEPENDS ${asmjit_for_shared})
add_dependencies(bpfvm_shared bpfvm_asmjit_for_shared)
target_link_libraries(bpfvm_shared PRIVATE bpfvm_settings ${asmjit_for_shared} elf)
target_link_options(bpfvm_shared PRIVATE
  -Wl,--exclude-libs,ALL -Wl,--version-script=${bpfvm_version_script} -Wl,--no-undefined)
set_property(TARGET bpfvm_shared APPEND PROPERTY LINK_DEPENDS ${bpfvm_version_script})

# Static: append asmjit's members to libbpfvm.a (ar's MRI script), so `-lbpfvm -lstdc++` is enough.
set(bpfvm_fold_script ${CMAKE_CURRENT_BINARY_DIR}/fold_asmjit.mri)
file(GENERATE OUTPUT ${bpfvm_fold_script} CONTENT
  "OPEN $<TARGET_FILE:bpfvm_static>\nADDLIB $<TARGET_FILE:asmjit::asmjit>\nSAVE\nEND\n")
add_custom_command(TARGET bpfvm_static POST_BUILD
  COMMAND sh -c "${CMAKE_AR} -M < ${bpfvm_fold_script}"
  COMMAND ${CMAKE_RANLIB} $<TARGET_FILE:bpfvm_static>
  COMMENT "Folding asmjit into libbpfvm.a"
  VERBATIM)

# Installation.
include(CMakePackageConfigHelpers)
set(BPFVM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/bpfvm)
set(bpfvm_header_excludes)
if(NOT TARGET bpfvm_fuzz)
  set(bpfvm_header_excludes PATTERN "fuzz.hpp" EXCLUDE)  # its implementation is not in this build
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/bpfvm DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp" ${bpfvm_header_excludes})
install(TARGETS bpfvm_static bpfvm_shared EXPORT bpfvmTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT bpfvmTargets NAMESPACE bpfvm:: DESTINATION ${BPFVM_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/bpfvmConfig.cmake.in
  ${PROJECT_BINARY_DIR}/bpfvmConfig.cmake INSTALL_DESTINATION ${BPFVM_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/bpfvmConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)  # 0.x: a minor release may break the API
install(FILES ${PROJECT_BINARY_DIR}/bpfvmConfig.cmake ${PROJECT_BINARY_DIR}/bpfvmConfigVersion.cmake
  DESTINATION ${BPFVM_CMAKE_DIR})

# bpfvm.pc finds its prefix relative to itself (${pcfiledir}), so `cmake --install --prefix` relocates it.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(BPFVM_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH pc_to_prefix "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
  string(REGEX REPLACE "/$" "" pc_to_prefix "${pc_to_prefix}")
  set(BPFVM_PC_PREFIX "\${pcfiledir}/${pc_to_prefix}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/bpfvm.pc.in ${PROJECT_BINARY_DIR}/bpfvm.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/bpfvm.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
