#pragma once
// The stream the CUDA kernels of this thread launch on (default: the legacy default stream).
// Opaque here (void*) so that code outside kernels/cuda needs no CUDA header.
namespace kernels::cuda {
void* create_stream();
void destroy_stream(void* stream);
void set_current_stream(void* stream);  // nullptr: the default stream
void* current_stream();
void synchronize_stream(void* stream);
}  // namespace kernels::cuda
