// The MPI communicator (contract in mpi_communicator.h).
//
// Why point-to-point and not MPI_Allreduce: the MPI standard lets MPI_Allreduce pick its
// algorithm (and so its summation order) by message size and rank count, and does not promise
// the same bits on every rank; here rank j sums chunk j of every rank's buffer in rank order and
// sends the result to all, which is the bandwidth of a ring all-reduce (2 (N-1)/N of the buffer
// in and out per rank) with one fixed order. The waits poll with MPI_Testsome so that a rank that
// died or hangs is named after the timeout instead of blocking the others for ever.
#include "mpi_communicator.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <thread>

#include "engine/check.h"

namespace engine {

namespace {

void mpi_check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  ENGINE_FAIL(call, " failed: ", std::string(text, size_t(length)));
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

MpiCommunicator::MpiCommunicator(double timeout_seconds) : timeout_(timeout_seconds) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) {
    mpi_check(MPI_Init(nullptr, nullptr), "MPI_Init");
    finalize_ = true;
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm node;
  mpi_check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
            "MPI_Comm_split_type");
  MPI_Comm_rank(node, &local_rank_);
  MPI_Comm_free(&node);
}

MpiCommunicator::~MpiCommunicator() {
  if (finalize_) MPI_Finalize();
}

void MpiCommunicator::abort_silent(const std::vector<int>& silent, const char* what) const {
  std::ostringstream ranks;
  for (size_t i = 0; i < silent.size(); ++i) ranks << (i ? ", " : "") << silent[i];
  if (silent.empty())
    std::fprintf(stderr, "error: rank %d: %s (after %g s); stopping the job\n", rank_, what, timeout_);
  else
    std::fprintf(stderr,
                 "error: rank %d: %s: no answer from rank%s %s within %g s (dead or hung; see the launcher's "
                 "output); stopping the job\n",
                 rank_, what, silent.size() > 1 ? "s" : "", ranks.str().c_str(), timeout_);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 3);
  std::_Exit(3);  // MPI_Abort does not return; if it did, the job must still stop
}

void MpiCommunicator::exchange(const std::vector<const void*>& sends, const std::vector<int>& send_counts,
                               const std::vector<void*>& recvs, const std::vector<int>& recv_counts,
                               MPI_Datatype type, const char* what) {
  const int tag = tag_;
  tag_ = (tag_ + 1) % 32768;  // MPI guarantees tags up to 32767
  std::vector<MPI_Request> requests;
  std::vector<int> peer;  // the rank of each request
  for (int j = 0; j < size_; ++j) {
    if (j == rank_ || recv_counts[size_t(j)] == 0) continue;
    requests.emplace_back();
    mpi_check(MPI_Irecv(recvs[size_t(j)], recv_counts[size_t(j)], type, j, tag, MPI_COMM_WORLD, &requests.back()), "MPI_Irecv");
    peer.push_back(j);
  }
  const size_t receives = requests.size();
  for (int j = 0; j < size_; ++j) {
    if (j == rank_ || send_counts[size_t(j)] == 0) continue;
    requests.emplace_back();
    mpi_check(MPI_Isend(sends[size_t(j)], send_counts[size_t(j)], type, j, tag, MPI_COMM_WORLD, &requests.back()), "MPI_Isend");
    peer.push_back(j);
  }
  const double deadline = now_seconds() + timeout_;
  std::vector<int> done(requests.size());
  int pending = int(requests.size()), sleep_us = 1;
  while (pending > 0) {
    int completed = 0;
    mpi_check(MPI_Testsome(int(requests.size()), requests.data(), &completed, done.data(), MPI_STATUSES_IGNORE),
              "MPI_Testsome");
    if (completed == MPI_UNDEFINED) break;
    pending -= completed;
    if (pending == 0) break;
    if (completed > 0) {
      sleep_us = 1;
      continue;
    }
    if (now_seconds() > deadline) {
      std::vector<int> silent;
      for (size_t i = 0; i < receives; ++i)  // a receive still open: that rank never sent
        if (requests[i] != MPI_REQUEST_NULL) silent.push_back(peer[i]);
      for (size_t i = receives; i < requests.size() && silent.empty(); ++i)
        if (requests[i] != MPI_REQUEST_NULL) silent.push_back(peer[i]);
      abort_silent(silent, what);
    }
    // Yield the core: on a machine with fewer cores than ranks x threads the peer needs it.
    std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
    sleep_us = std::min(sleep_us * 2, 1000);
  }
}

void MpiCommunicator::average_floats(float* data, int64_t n) {
  const auto begin = [&](int j) { return n * j / size_; };
  const auto count = [&](int j) { return begin(j + 1) - begin(j); };
  ENGINE_CHECK(count(size_ - 1) < (int64_t(1) << 31), "buffer of ", n, " floats too large for one MPI message");
  const int r = rank_;
  const size_t mine = size_t(count(r));
  // Reduce-scatter: every rank's chunk r lands in row j of `rows`, then is summed in rank order.
  std::vector<float> rows(mine * size_t(size_));
  std::vector<const void*> sends(static_cast<size_t>(size_));
  std::vector<void*> recvs(static_cast<size_t>(size_));
  std::vector<int> send_counts(static_cast<size_t>(size_)), recv_counts(static_cast<size_t>(size_), int(mine));
  for (int j = 0; j < size_; ++j) {
    sends[size_t(j)] = data + begin(j);
    send_counts[size_t(j)] = int(count(j));
    recvs[size_t(j)] = rows.data() + size_t(j) * mine;
  }
  exchange(sends, send_counts, recvs, recv_counts, MPI_FLOAT, "gradient average (reduce)");
  std::copy(data + begin(r), data + begin(r) + int64_t(mine), rows.begin() + int64_t(size_t(r) * mine));
  const float ranks = float(size_);
  for (size_t i = 0; i < mine; ++i) {
    float sum = rows[i];
    for (size_t j = 1; j < size_t(size_); ++j) sum += rows[j * mine + i];
    data[begin(r) + int64_t(i)] = sum / ranks;
  }
  // All-gather: chunk r to everyone, chunk j from rank j.
  for (int j = 0; j < size_; ++j) {
    sends[size_t(j)] = data + begin(r);
    send_counts[size_t(j)] = int(mine);
    recvs[size_t(j)] = data + begin(j);
    recv_counts[size_t(j)] = int(count(j));
  }
  exchange(sends, send_counts, recvs, recv_counts, MPI_FLOAT, "gradient average (gather)");
}

void MpiCommunicator::average(const std::vector<Tensor>& tensors) {
  const double start = now_seconds();
  int64_t n = 0;
  for (const Tensor& t : tensors) n += t.numel();
  std::vector<float> flat(static_cast<size_t>(n));
  int64_t at = 0;
  for (const Tensor& t : tensors) {  // one buffer: one message per peer instead of one per tensor
    device_copy(Device::cpu(), flat.data() + at, t.device(), t.data(), size_t(t.numel()) * sizeof(float));
    at += t.numel();
  }
  average_floats(flat.data(), n);
  at = 0;
  for (const Tensor& t : tensors) {
    device_copy(t.device(), t.data(), Device::cpu(), flat.data() + at, size_t(t.numel()) * sizeof(float));
    at += t.numel();
  }
  seconds_averaging_ += now_seconds() - start;
}

void MpiCommunicator::average(std::vector<double>& values) {
  const double start = now_seconds();
  const int n = int(values.size());
  std::vector<double> rows(values.size() * size_t(size_));
  std::vector<const void*> sends(static_cast<size_t>(size_), values.data());
  std::vector<void*> recvs(static_cast<size_t>(size_));
  std::vector<int> counts(static_cast<size_t>(size_), n);
  for (int j = 0; j < size_; ++j) recvs[size_t(j)] = rows.data() + size_t(j) * values.size();
  exchange(sends, counts, recvs, counts, MPI_DOUBLE, "loss average");
  std::copy(values.begin(), values.end(), rows.begin() + int64_t(size_t(rank_) * values.size()));
  for (size_t i = 0; i < values.size(); ++i) {
    double sum = rows[i];
    for (size_t j = 1; j < size_t(size_); ++j) sum += rows[j * values.size() + i];
    values[i] = sum / double(size_);
  }
  seconds_averaging_ += now_seconds() - start;
}

void MpiCommunicator::broadcast(void* data, int64_t bytes, const char* what) {
  std::vector<const void*> sends(static_cast<size_t>(size_), data);
  std::vector<void*> recvs(static_cast<size_t>(size_), data);
  std::vector<int> counts(static_cast<size_t>(size_), 0), none(static_cast<size_t>(size_), 0);
  if (rank_ == 0) counts.assign(static_cast<size_t>(size_), int(bytes));  // rank 0 sends, the others receive from 0
  else none[0] = int(bytes);
  exchange(sends, counts, recvs, none, MPI_BYTE, what);
}

std::unique_ptr<Communicator> make_mpi_communicator(double timeout_seconds) {
  return std::make_unique<MpiCommunicator>(timeout_seconds);
}

}  // namespace engine
