# Cross-compiling for 64-bit Arm Linux with Debian's g++-aarch64-linux-gnu and arm64 libraries
# installed through multiarch (dpkg --add-architecture arm64; libopenblas-openmp-dev:arm64 ...).
# Used by tools/ci/test_aarch64.sh; the emulator line lets ctest run the results under qemu-user-static.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_ASM_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Libraries from the arm64 multiarch folders only; header-only packages (Catch2, CLI11,
# nlohmann-json) and their CMake files are architecture-independent and found where they are.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
# The multiarch loader and libc (-L /), not the cross toolchain's older pair: tools/ci/install_cross_deps.sh.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static -L /)
# GCC's note that std::pair<double, double> arguments changed ABI in GCC 10.1 concerns only code
# mixed with objects from GCC < 10; everything here is built by one compiler.
set(CMAKE_CXX_FLAGS_INIT "-Wno-psabi")
