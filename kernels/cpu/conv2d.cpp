// 2-d convolution and its gradients on the CPU, as GEMM on the BLAS (Caffe's im2col): the
// receptive fields of a block of output rows are unrolled into a column matrix
// col [Ci*Kh*Kw, P] (P = output positions of the block), so that, per image,
//   forward          y[Co, P]       = w[Co, Ci*Kh*Kw] * col
//   backward input   col            = w^T * dy[Co, P], then col2im adds col back into dx
//   backward weight  dw[Co, CiKhKw] += dy[Co, P] * col^T
// Matches torch.nn.functional.conv2d (zero padding) and its input and weight gradients.
//
// Threads. The BLAS is OpenBLAS's OpenMP build, which runs single-threaded when called inside a
// parallel region. Each thread therefore takes whole pieces of work with its own column buffer:
// on SARGAN's shapes a single-threaded GEMM runs at 80-97% of the core's peak, while one GEMM
// split over two threads reached only 50-70% of two cores (small N, and the packing is not split).
//
// Batch invariance. The forward and the input gradient (conv_transpose2d's forward) give an image
// the same bits in any batch. OpenBLAS does not sum in one fixed order: the bits of an output
// column depend on the GEMM's other columns and on how many threads it splits over. So every BLAS
// GEMM of those two is one image's, of a shape that does not depend on the batch, and runs inside
// a parallel region (single-threaded) whenever there are threads, even where some stay idle:
// (image, row block) pieces in the forward, (image, input-channel group) pieces in the input
// gradient (an image's row blocks overlap in dx; its channel groups do not). Except:
// - small outputs (the discriminator's deep layers, P = 4..64) put the columns of a group of
//   images side by side in one GEMM, so that a 134 MB weight is read once per group, not per
//   image: on kernels/fixed_order_gemm.h in the forward and the input gradient, on the
//   threaded BLAS in the weight gradient (a sum over the batch, with no invariance to keep).
// The other paths:
// - stride-1 convs with few output channels (the generator's 7x7 64->3) are computed through
//   their transpose (see `use_transposed`), whose GEMMs are Ci rows high instead of Co;
// - 3x3 stride-1 convs with enough channels (the residual block's) use Winograd F(4x4, 3x3)
//   (kernels/conv2d_winograd.h) forward and for the input gradient, one image per thread;
// - 4x4 stride-2 convs with large enough outputs (the generator's down- and upsampling, the
//   discriminator's first layers) use Winograd F(4x4, 2x2) on their four phases
//   (kernels/conv2d_winograd_stride2.h) forward and for the input gradient, images or ranges of
//   an image's tiles per thread. Their weight gradients stay on im2col.
// The Winograd paths sum on their own GEMM kernel, in one order whatever the batch.
#include "kernels/conv2d.h"
#include "kernels/conv2d_winograd.h"
#include "kernels/conv2d_winograd_stride2.h"
#include "kernels/fixed_order_gemm.h"
#include "kernels/reflection_pad2d.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <memory>
#include <vector>

namespace kernels::cpu {
namespace {

// A column buffer holds at most this many floats (4 MB): it bounds the workspace (a 7x7 conv of
// 64 channels over 128x128 would need 200 MB at once) and keeps the block in the last-level
// cache between im2col writing it and the GEMM reading it, which made the 7x7 64->3 conv
// 1.5-1.8x faster than 16 MB blocks; 3x3 256-channel GEMMs still get 352 columns.
constexpr int64_t workspace_floats = int64_t{1} << 20;

// Below this many output positions per image, images share GEMMs (see the file comment).
constexpr int64_t min_image_columns = 256;

// Per-image weight gradients are kept apart and summed in image order (so the result does not
// depend on the thread count) while they take at most this many floats (64 MB) together.
constexpr int64_t max_partial_gradient_floats = int64_t{1} << 24;

// Grow-only, per thread: the conv ops of a training step reuse one buffer instead of paying for
// fresh pages on every call.
float* grown(std::vector<float>& buffer, int64_t count) {
  if (static_cast<int64_t>(buffer.size()) < count) buffer.resize(count);
  return buffer.data();
}
float* workspace(int64_t count) {
  thread_local std::vector<float> buffer;
  return grown(buffer, count);
}
// The per-image weight gradients of backward_weight.
float* workspace_of_partials(int64_t count) {
  thread_local std::vector<float> buffer;
  return grown(buffer, count);
}

int64_t patch_size(const Conv2dShape& s) { return s.c_in * s.k_h * s.k_w; }
int64_t input_size(const Conv2dShape& s) { return s.c_in * s.h_in * s.w_in; }
int64_t output_size(const Conv2dShape& s) { return s.c_out * s.h_out * s.w_out; }
int threads() { return omp_in_parallel() ? 1 : omp_get_max_threads(); }

// The output rows of one image, cut into `count` blocks of balanced sizes.
struct RowBlocks {
  int64_t count = 1, h_out = 0;
  int64_t begin(int64_t b) const { return b * h_out / count; }
  int64_t rows(int64_t b) const { return begin(b + 1) - begin(b); }
};

// As few blocks as the workspace allows.
RowBlocks fewest_row_blocks(const Conv2dShape& s) {
  const int64_t max_rows = std::clamp<int64_t>(workspace_floats / (patch_size(s) * s.w_out), 1, s.h_out);
  return {(s.h_out + max_rows - 1) / max_rows, s.h_out};
}

// As few blocks as the workspace allows, rounded up to a multiple of the thread count so that the
// n * count pieces of work split evenly over the threads. Not fitted to the batch: with fewer
// columns a GEMM can fall under OpenBLAS's small-matrix threshold, whose kernels sum in another
// order, so a count that followed n would give an image other bits in another batch.
RowBlocks row_blocks(const Conv2dShape& s) {
  const int64_t fewest = fewest_row_blocks(s).count, t = threads();
  const int64_t count = (fewest + t - 1) / t * t;
  return {count <= s.h_out ? count : fewest, s.h_out};
}

// The output columns [begin, end) whose tap at kernel column `kw` lands inside the input row:
// 0 <= ow * stride - pad + kw < w_in.
void valid_columns(const Conv2dShape& s, int64_t kw, int64_t& begin, int64_t& end) {
  const int64_t offset = s.pad - kw;  // ow * stride >= offset
  begin = offset > 0 ? (offset + s.stride - 1) / s.stride : 0;
  const int64_t last = s.w_in - 1 + offset;  // ow * stride <= last
  end = last >= 0 ? std::min(last / s.stride + 1, s.w_out) : 0;
  begin = std::min(begin, end);
}

// col[(c, kh, kw), (i, ow)] = x[c, (oh0 + i) * stride - pad + kh, ow * stride - pad + kw], 0
// outside; the rows of col are `ld` floats apart.
void im2col(const Conv2dShape& s, const float* x, int64_t oh0, int64_t rows, float* col, int64_t ld) {
  const int64_t taps = s.k_h * s.k_w;
#pragma omp parallel for schedule(static) if (threads() > 1 && patch_size(s) * rows * s.w_out > 65536)
  for (int64_t r = 0; r < patch_size(s); ++r) {
    const int64_t c = r / taps, kh = (r % taps) / s.k_w, kw = r % s.k_w;
    int64_t begin, end;
    valid_columns(s, kw, begin, end);
    const float* plane = x + c * s.h_in * s.w_in;
    for (int64_t i = 0; i < rows; ++i) {
      float* dst = col + r * ld + i * s.w_out;
      const int64_t ih = (oh0 + i) * s.stride - s.pad + kh;
      if (ih < 0 || ih >= s.h_in) {
        std::fill(dst, dst + s.w_out, 0.f);
        continue;
      }
      const float* src = plane + ih * s.w_in;
      const int64_t shift = kw - s.pad;
      std::fill(dst, dst + begin, 0.f);
      if (s.stride == 1) {  // a separate loop so that the contiguous copy vectorises
        for (int64_t ow = begin; ow < end; ++ow) dst[ow] = src[ow + shift];
      } else {
        for (int64_t ow = begin; ow < end; ++ow) dst[ow] = src[ow * s.stride + shift];
      }
      std::fill(dst + end, dst + s.w_out, 0.f);
    }
  }
}

// The adjoint of im2col: dx[c, ih, iw] += every col entry that im2col read from there.
void col2im(const Conv2dShape& s, const float* col, int64_t oh0, int64_t rows, float* dx, int64_t ld) {
#pragma omp parallel for schedule(static) if (threads() > 1 && s.c_in > 1 && patch_size(s) * rows * s.w_out > 65536)
  for (int64_t c = 0; c < s.c_in; ++c) {
    float* plane = dx + c * s.h_in * s.w_in;
    for (int64_t kh = 0; kh < s.k_h; ++kh) {
      for (int64_t kw = 0; kw < s.k_w; ++kw) {
        int64_t begin, end;
        valid_columns(s, kw, begin, end);
        const float* src_row = col + ((c * s.k_h + kh) * s.k_w + kw) * ld;
        const int64_t shift = kw - s.pad;
        for (int64_t i = 0; i < rows; ++i) {
          const int64_t ih = (oh0 + i) * s.stride - s.pad + kh;
          if (ih < 0 || ih >= s.h_in) continue;
          const float* src = src_row + i * s.w_out;
          float* dst = plane + ih * s.w_in;
          for (int64_t ow = begin; ow < end; ++ow) dst[ow * s.stride + shift] += src[ow];
        }
      }
    }
  }
}

// ---- the transpose of a stride-1 conv ----
// A stride-1 conv of x by w with padding p is the input gradient of the conv that maps its
// output back to its input with the kernel flipped and the channels swapped, padding K-1-p;
// and its weight gradient is that conv's weight gradient, flipped and transposed back:
//   forward(s, x, w)           = backward_input(t, x, w')
//   backward_input(s, dy, w)   = forward(t, dy, w')
//   backward_weight(s, x, dy)' = backward_weight(t, dy, x)      t = transposed_stride1(s), w' = flipped(w)
// The transposed GEMMs are Ci rows high where the direct ones are Co: with Co = 3 the direct
// GEMMs are too thin for the BLAS to reach a tenth of its speed.
bool use_transposed(const Conv2dShape& s) {
  return s.stride == 1 && s.k_h == s.k_w && s.c_out < 16 && s.c_in >= 4 * s.c_out &&
         s.h_out * s.w_out >= min_image_columns;
}

// w'[c, o, kh, kw] = w[o, c, K-1-kh, K-1-kw]; its own inverse (with the roles of Co, Ci swapped).
std::vector<float> flipped(const float* w, int64_t c_out, int64_t c_in, int64_t k) {
  std::vector<float> result(c_out * c_in * k * k);
  for (int64_t o = 0; o < c_out; ++o)
    for (int64_t c = 0; c < c_in; ++c)
      for (int64_t t = 0; t < k * k; ++t) result[(c * c_out + o) * k * k + t] = w[(o * c_in + c) * k * k + k * k - 1 - t];
  return result;
}

// ---- images sharing a GEMM (small outputs) ----
// Images [n0, n0 + g) become one GEMM of g * P columns; `group_size` bounds its column buffer.
int64_t group_size(const Conv2dShape& s) {
  const int64_t positions = s.h_out * s.w_out;
  return std::clamp<int64_t>(workspace_floats / (patch_size(s) * positions), 1, s.n);
}
bool small_outputs(const Conv2dShape& s) { return s.h_out * s.w_out < min_image_columns; }
bool share_gemms(const Conv2dShape& s) { return s.n > 1 && small_outputs(s); }

// col [K, g * P]: the im2col of images n0..n0+g-1 side by side.
void im2col_group(const Conv2dShape& s, const float* x, int64_t n0, int64_t g, float* col) {
  const int64_t positions = s.h_out * s.w_out;
#pragma omp parallel for schedule(static) if (threads() > 1)
  for (int64_t j = 0; j < g; ++j) im2col(s, x + (n0 + j) * input_size(s), 0, s.h_out, col + j * positions, g * positions);
}

// Between the per-image layout [g][Co][P] and the GEMM's [Co][g * P].
void images_to_columns(const float* images, int64_t g, int64_t rows, int64_t positions, float* columns) {
#pragma omp parallel for collapse(2) schedule(static) if (threads() > 1 && g * rows * positions > 65536)
  for (int64_t j = 0; j < g; ++j)
    for (int64_t r = 0; r < rows; ++r)
      std::copy_n(images + (j * rows + r) * positions, positions, columns + (r * g + j) * positions);
}
void columns_to_images(const float* columns, int64_t g, int64_t rows, int64_t positions, float* images) {
#pragma omp parallel for collapse(2) schedule(static) if (threads() > 1 && g * rows * positions > 65536)
  for (int64_t j = 0; j < g; ++j)
    for (int64_t r = 0; r < rows; ++r)
      std::copy_n(columns + (r * g + j) * positions, positions, images + (j * rows + r) * positions);
}

// The forward and input gradient of small outputs: the columns of a group of images side by side
// in one fixed-order GEMM (each column's bits its own, whatever the group).
void forward_small(const Conv2dShape& s, const float* x, const float* w, float* y) {
  const int64_t k = patch_size(s), positions = s.h_out * s.w_out, group = group_size(s);
  float* col = workspace((k + s.c_out) * group * positions);
  float* out = col + k * group * positions;
  for (int64_t n0 = 0; n0 < s.n; n0 += group) {
    const int64_t g = std::min(group, s.n - n0), cols = g * positions;
    im2col_group(s, x, n0, g, col);
    fixed_order_gemm(false, s.c_out, cols, k, w, k, col, cols, out, cols);
    columns_to_images(out, g, s.c_out, positions, y + n0 * output_size(s));
  }
}

void backward_input_small(const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  const int64_t k = patch_size(s), positions = s.h_out * s.w_out, group = group_size(s);
  float* col = workspace((k + s.c_out) * group * positions);
  float* grad = col + k * group * positions;
  for (int64_t n0 = 0; n0 < s.n; n0 += group) {
    const int64_t g = std::min(group, s.n - n0), cols = g * positions;
    images_to_columns(dy + n0 * output_size(s), g, s.c_out, positions, grad);
    fixed_order_gemm(true, k, cols, s.c_out, w, k, grad, cols, col, cols);
#pragma omp parallel for schedule(static) if (g > 1)
    for (int64_t j = 0; j < g; ++j) {
      float* dx_n = dx + (n0 + j) * input_size(s);
      std::fill(dx_n, dx_n + input_size(s), 0.f);
      col2im(s, col + j * positions, 0, s.h_out, dx_n, cols);
    }
  }
}

void backward_weight_shared(const Conv2dShape& s, const float* x, const float* dy, float* dw) {
  const int64_t k = patch_size(s), positions = s.h_out * s.w_out, group = group_size(s);
  std::vector<float> col(k * group * positions), grad(s.c_out * group * positions);
  for (int64_t n0 = 0; n0 < s.n; n0 += group) {
    const int64_t g = std::min(group, s.n - n0), cols = g * positions;
    images_to_columns(dy + n0 * output_size(s), g, s.c_out, positions, grad.data());
    im2col_group(s, x, n0, g, col.data());
    // The first group overwrites dw (no separate zeroing pass over the 134 MB of the last
    // discriminator conv), the others accumulate into it.
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s.c_out, k, cols, 1.f, grad.data(), cols, col.data(), cols,
                n0 == 0 ? 0.f : 1.f, dw, k);
  }
}

// ---- one image per piece of work ----
void forward_image_block(const Conv2dShape& s, const float* x_n, const float* w, float* y_n, int64_t oh0,
                         int64_t rows) {
  const int64_t k = patch_size(s), positions = s.h_out * s.w_out, cols = rows * s.w_out;
  float* col = workspace(k * cols);
  im2col(s, x_n, oh0, rows, col, cols);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s.c_out, cols, k, 1.f, w, k, col, cols, 0.f,
              y_n + oh0 * s.w_out, positions);
}

// Overwrites input channels [c0, c1) of dx_n, whose rows of col are rows [c0, c1) * Kh * Kw of
// w^T. The blocks run in order: their input rows overlap.
void backward_input_channels(const Conv2dShape& s, const float* dy_n, const float* w, float* dx_n, int64_t c0,
                             int64_t c1, const RowBlocks& blocks) {
  Conv2dShape part = s;
  part.c_in = c1 - c0;
  const int64_t k = patch_size(s), taps = s.k_h * s.k_w, positions = s.h_out * s.w_out;
  float* dx_part = dx_n + c0 * s.h_in * s.w_in;
  std::fill(dx_part, dx_part + input_size(part), 0.f);
  for (int64_t b = 0; b < blocks.count; ++b) {
    const int64_t oh0 = blocks.begin(b), cols = blocks.rows(b) * s.w_out;
    float* col = workspace(patch_size(part) * cols);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, patch_size(part), cols, s.c_out, 1.f, w + c0 * taps, k,
                dy_n + oh0 * s.w_out, positions, 0.f, col, cols);
    col2im(part, col, oh0, blocks.rows(b), dx_part, cols);
  }
}

// dw = (or +=, with `accumulate`) the weight gradient of one image.
void backward_weight_image(const Conv2dShape& s, const float* x_n, const float* dy_n, float* dw,
                           const RowBlocks& blocks, bool accumulate) {
  const int64_t k = patch_size(s), positions = s.h_out * s.w_out;
  for (int64_t b = 0; b < blocks.count; ++b) {
    const int64_t oh0 = blocks.begin(b), cols = blocks.rows(b) * s.w_out;
    float* col = workspace(k * cols);
    im2col(s, x_n, oh0, blocks.rows(b), col, cols);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s.c_out, k, cols, 1.f, dy_n + oh0 * s.w_out, positions,
                col, cols, accumulate || b > 0 ? 1.f : 0.f, dw, k);
  }
}

// y = conv2d(x, w) by Winograd F(4x4, 3x3), with u the transformed weights; the images go over
// the threads.
void forward_winograd(const Conv2dShape& s, const float* u, const float* x, float* y) {
#pragma omp parallel for schedule(static) if (threads() > 1 && s.n > 1)
  for (int64_t n = 0; n < s.n; ++n)
    winograd3x3_forward_image(s, u, x + n * input_size(s), y + n * output_size(s),
                              workspace(winograd3x3_workspace_size(s)));
}

// The transformed weights, per calling thread: the caller's buffer is shared by all threads of
// its parallel loop and only read there.
float* winograd_weights(int64_t count) {
  thread_local std::vector<float> buffer;
  return grown(buffer, count);
}

// A 4x4 stride-2 conv's forward or input gradient by Winograd F(4x4, 2x2) on its phases. The
// pieces of work are (image, block of panels), each image cut into as few blocks as let the pieces
// split evenly over the threads (one image, or 7 on two threads, would leave a thread idle); the
// panels are computed alike whatever the split, so the result does not depend on it.
void stride2_winograd(const Conv2dShape& s, Winograd4x4s2Pass pass, const float* in, const float* w, float* out) {
  float* u = winograd_weights(winograd4x4s2_weights_size(s, pass));
  winograd4x4s2_transform_weights(s, pass, w, u);
  const bool forward = pass == Winograd4x4s2Pass::forward;
  const int64_t in_size = forward ? input_size(s) : output_size(s), out_size = forward ? output_size(s) : input_size(s);
  const int64_t panels = winograd4x4s2_panels(s, pass), t = threads();
  int64_t blocks = 1;
  while ((s.n * blocks) % t != 0 && blocks < panels) ++blocks;
  const int64_t pieces = s.n * blocks;
#pragma omp parallel for schedule(static) if (t > 1 && pieces > 1)
  for (int64_t piece = 0; piece < pieces; ++piece) {
    const int64_t n = piece / blocks, b = piece % blocks;
    float* scratch = workspace(winograd4x4s2_workspace_size(s, pass));
    winograd4x4s2_image(s, pass, u, in + n * in_size, out + n * out_size, scratch, b * panels / blocks,
                        (b + 1) * panels / blocks);
  }
}

void forward_any(const Conv2dShape& s, const float* x, const float* w, float* y) {
  if (use_transposed(s)) {
    const std::vector<float> w_t = flipped(w, s.c_out, s.c_in, s.k_h);
    conv2d_backward_input(transposed_stride1(s), x, w_t.data(), y);
    return;
  }
  if (winograd3x3_applies(s)) {
    float* u = winograd_weights(winograd3x3_weights_size(s));
    winograd3x3_transform_weights(s, w, u);
    forward_winograd(s, u, x, y);
    return;
  }
  if (winograd4x4s2_applies(s, Winograd4x4s2Pass::forward)) {
    stride2_winograd(s, Winograd4x4s2Pass::forward, x, w, y);
    return;
  }
  if (small_outputs(s)) {
    forward_small(s, x, w, y);
    return;
  }
  const RowBlocks blocks = row_blocks(s);
  const int64_t pieces = s.n * blocks.count;
#pragma omp parallel for schedule(static) if (threads() > 1)
  for (int64_t piece = 0; piece < pieces; ++piece) {
    const int64_t n = piece / blocks.count, b = piece % blocks.count;
    forward_image_block(s, x + n * input_size(s), w, y + n * output_size(s), blocks.begin(b), blocks.rows(b));
  }
}

// One pass over y after the convolution: the work of the separate bias and activation ops'
// passes, with their bits.
void forward_epilogue(const Conv2dShape& s, float* y, const ConvEpilogue& e) {
  const int64_t planes = s.n * s.c_out, pixels = s.h_out * s.w_out;
#pragma omp parallel for schedule(static) if (threads() > 1 && planes * pixels > 65536)
  for (int64_t plane = 0; plane < planes; ++plane) {
    // One channel per plane, its bias a local and one simple loop per step, each vectorised as
    // the unary kernels' are (omp simd): written through apply_epilogue, without it, the pass
    // took 2-4 times the convolution of D 1 on this machine.
    float* row = y + plane * pixels;
    if (e.bias != nullptr) {
      const float bias = e.bias[plane % s.c_out];
#pragma omp simd
      for (int64_t i = 0; i < pixels; ++i) row[i] += bias;
    }
    if (e.leaky_relu) {
      const float slope = e.slope;
#pragma omp simd
      for (int64_t i = 0; i < pixels; ++i) row[i] = row[i] > 0.f ? row[i] : slope * row[i];
    }
  }
}

}  // namespace

void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, float* y, const ConvEpilogue& epilogue,
                    Precision /*always fp32*/) {
  if (s.reflect) {  // the padded input, then the zero-padding conv: the bits of the two ops
    const Conv2dShape padded = reflection_padded(s);
    // Uninitialised: the pad writes every element.
    const size_t padded_size = static_cast<size_t>(padded.n * padded.c_in * padded.h_in * padded.w_in);
    const std::unique_ptr<float[]> x_padded(new float[padded_size]);
    reflection_pad2d_forward(s.n * s.c_in, s.h_in, s.w_in, s.pad, x, x_padded.get());
    return conv2d_forward(padded, x_padded.get(), w, y, epilogue);
  }
  forward_any(s, x, w, y);
  if (!epilogue.empty()) forward_epilogue(s, y, epilogue);
}

void conv2d_backward_input(const Conv2dShape& s, const float* dy, const float* w, float* dx, Precision /*always fp32*/) {
  require_zero_padding("conv2d_backward_input (cpu)", s);
  if (use_transposed(s)) {
    const std::vector<float> w_t = flipped(w, s.c_out, s.c_in, s.k_h);
    conv2d_forward(transposed_stride1(s), dy, w_t.data(), dx);
    return;
  }
  if (s.stride == 1 && winograd3x3_applies(transposed_stride1(s))) {
    const Conv2dShape t = transposed_stride1(s);
    float* u = winograd_weights(winograd3x3_weights_size(t));
    winograd3x3_transform_weights_flipped(t, w, u);
    forward_winograd(t, u, dy, dx);
    return;
  }
  if (winograd4x4s2_applies(s, Winograd4x4s2Pass::backward_input)) {
    stride2_winograd(s, Winograd4x4s2Pass::backward_input, dy, w, dx);
    return;
  }
  if (small_outputs(s)) {
    backward_input_small(s, dy, w, dx);
    return;
  }
  // The blocks of an image run in order, and where they split a sum of col2im changes its order:
  // their count must not depend on the batch (or the thread count), or an image would get a
  // different gradient (conv_transpose2d a different output) in another batch.
  const RowBlocks blocks = fewest_row_blocks(s);
  const int64_t groups = std::min<int64_t>(threads(), s.c_in), pieces = s.n * groups;
#pragma omp parallel for schedule(static) if (threads() > 1)
  for (int64_t piece = 0; piece < pieces; ++piece) {
    const int64_t n = piece / groups, g = piece % groups;
    backward_input_channels(s, dy + n * output_size(s), w, dx + n * input_size(s), g * s.c_in / groups,
                            (g + 1) * s.c_in / groups, blocks);
  }
}

void conv2d_backward_weight(const Conv2dShape& s, const float* x, const float* dy, float* dw, Precision /*always fp32*/) {
  require_zero_padding("conv2d_backward_weight (cpu)", s);
  const int64_t k = patch_size(s), weights = s.c_out * k;
  if (s.n == 0) {
    std::fill(dw, dw + weights, 0.f);
    return;
  }
  if (use_transposed(s)) {
    std::vector<float> dw_t(weights);
    conv2d_backward_weight(transposed_stride1(s), dy, x, dw_t.data());
    const std::vector<float> back = flipped(dw_t.data(), s.c_in, s.c_out, s.k_h);
    std::copy(back.begin(), back.end(), dw);
    return;
  }
  if (share_gemms(s)) {
    backward_weight_shared(s, x, dy, dw);
    return;
  }
  const RowBlocks blocks = row_blocks(s);
  if (s.n == 1 || s.n * weights > max_partial_gradient_floats) {
    for (int64_t n = 0; n < s.n; ++n)
      backward_weight_image(s, x + n * input_size(s), dy + n * output_size(s), dw, blocks, n > 0);
    return;
  }
  // Images 1..n-1 (image 0 writes dw itself); taken before the parallel region, where each
  // thread would see its own thread_local.
  float* partial = workspace_of_partials((s.n - 1) * weights);
#pragma omp parallel for schedule(static) if (threads() > 1)
  for (int64_t n = 0; n < s.n; ++n) {
    float* dw_n = n == 0 ? dw : partial + (n - 1) * weights;
    backward_weight_image(s, x + n * input_size(s), dy + n * output_size(s), dw_n, blocks, false);
  }
#pragma omp parallel for schedule(static) if (threads() > 1 && weights > 65536)
  for (int64_t i = 0; i < weights; ++i) {
    float total = dw[i];
    for (int64_t n = 1; n < s.n; ++n) total += partial[(n - 1) * weights + i];
    dw[i] = total;
  }
}

}  // namespace kernels::cpu
