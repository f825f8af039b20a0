# `cmake --install BUILD --prefix PREFIX` installs the headers, the static libraries and the CMake
# package, so that another project writes
#     find_package(SarganEngine REQUIRED)
#     target_link_libraries(app PRIVATE SarganEngine::models)   # or SarganEngine::engine
# The package records how the engine was built (SarganEngine_WITH_CUDA, SarganEngine_CUDA_MODE,
# SarganEngine_WITH_MPI)
# and finds the libraries the static archives need (OpenBLAS, OpenMP, stb, zlib, MPI, CUDA::cudart).
include(CMakePackageConfigHelpers)
set(engine_package_dir ${CMAKE_INSTALL_LIBDIR}/cmake/SarganEngine)

set(engine_installed_targets kernels engine models)
foreach(target kernels_cuda kernels_baselines kernels_nccl)
  if(TARGET ${target})
    list(APPEND engine_installed_targets ${target})
  endif()
endforeach()
install(TARGETS ${engine_installed_targets} EXPORT SarganEngineTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY kernels/include/ engine/include/ models/include/ ${CMAKE_BINARY_DIR}/generated/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(EXPORT SarganEngineTargets NAMESPACE SarganEngine:: DESTINATION ${engine_package_dir})

set(SarganEngine_CUDA_MODE ${ENGINE_CUDA})
if(ENGINE_CUDA STREQUAL "OFF")
  set(SarganEngine_WITH_CUDA OFF)
else()
  set(SarganEngine_WITH_CUDA ON)
endif()
set(SarganEngine_WITH_MPI ${engine_mpi_found})
configure_package_config_file(cmake/SarganEngineConfig.cmake.in
  ${CMAKE_BINARY_DIR}/SarganEngineConfig.cmake INSTALL_DESTINATION ${engine_package_dir})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/SarganEngineConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/SarganEngineConfig.cmake ${CMAKE_BINARY_DIR}/SarganEngineConfigVersion.cmake
        DESTINATION ${engine_package_dir})
