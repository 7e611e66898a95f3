#include "net/uring_backend.hpp"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

namespace hft::net {
namespace {

constexpr int kBufGroup = 7;
constexpr std::size_t kControlBytes = CMSG_SPACE(sizeof(timespec));

int read_disabled_sysctl() {
  std::ifstream f("/proc/sys/kernel/io_uring_disabled");
  int v = 0;
  f >> v;
  return v;
}

std::string err_text(int e) { return fmt::format("{} ({})", std::strerror(e), e); }

}  // namespace

std::string UringFeatures::describe() const {
  if (!available)
    return fmt::format("io_uring unavailable: {} (kernel.io_uring_disabled = {})", error, disabled_sysctl);
  return fmt::format("io_uring: multishot receive {}, provided buffer rings {}, registered files {}, SQPOLL {}, "
                     "DEFER_TASKRUN {}",
                     multishot_recv ? "yes" : "no", provided_buffer_ring ? "yes" : "no", registered_files ? "yes" : "no",
                     sqpoll ? "yes" : "no", defer_taskrun ? "yes" : "no");
}

UringFeatures probe_io_uring() {
  UringFeatures f;
  f.disabled_sysctl = read_disabled_sysctl();
  io_uring ring{};
  int rc = io_uring_queue_init(8, &ring, 0);
  if (rc < 0) {
    f.error = fmt::format("io_uring_setup: {}", err_text(-rc));
    return f;
  }
  f.available = true;
  rc = io_uring_register_files_sparse(&ring, 4);
  f.registered_files = rc == 0;
  io_uring_buf_ring* br = nullptr;
  const std::size_t br_bytes = 8 * sizeof(io_uring_buf);
  void* mem = ::mmap(nullptr, br_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem != MAP_FAILED) {
    br = static_cast<io_uring_buf_ring*>(mem);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uint64_t>(br);
    reg.ring_entries = 8;
    reg.bgid = 1;
    f.provided_buffer_ring = io_uring_register_buf_ring(&ring, &reg, 0) == 0;
    if (f.provided_buffer_ring) {
      io_uring_buf_ring_init(br);
      // Multishot receive: arm one on a socket pair; an old kernel fails it with -EINVAL at once.
      int sv[2];
      if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv) == 0) {
        static char scratch[8][64];
        for (int i = 0; i < 8; ++i) io_uring_buf_ring_add(br, scratch[i], 64, static_cast<unsigned short>(i), 7, i);
        io_uring_buf_ring_advance(br, 8);
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        io_uring_prep_recv_multishot(sqe, sv[0], nullptr, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = 1;
        io_uring_submit(&ring);
        (void)::send(sv[1], "x", 1, 0);
        io_uring_cqe* cqe = nullptr;
        __kernel_timespec ts{1, 0};
        if (io_uring_wait_cqe_timeout(&ring, &cqe, &ts) == 0) {
          f.multishot_recv = cqe->res == 1 && (cqe->flags & IORING_CQE_F_MORE) != 0;
          io_uring_cqe_seen(&ring, cqe);
        }
        ::close(sv[0]);
        ::close(sv[1]);
      }
      io_uring_unregister_buf_ring(&ring, 1);
    }
    ::munmap(mem, br_bytes);
  }
  io_uring_queue_exit(&ring);

  io_uring_params p{};
  p.flags = IORING_SETUP_SQPOLL;
  p.sq_thread_idle = 10;
  if (io_uring_queue_init_params(8, &ring, &p) == 0) {
    f.sqpoll = true;
    io_uring_queue_exit(&ring);
  }
  io_uring_params q{};
  q.flags = IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER;
  if (io_uring_queue_init_params(8, &ring, &q) == 0) {
    f.defer_taskrun = true;
    io_uring_queue_exit(&ring);
  }
  return f;
}

UringBackend::UringBackend(const BackendOptions& options) : options_(options) {
  features_ = probe_io_uring();
  if (!features_.available) throw std::runtime_error(features_.describe());
  if (!features_.multishot_recv || !features_.provided_buffer_ring)
    throw std::runtime_error("io_uring backend needs multishot receive and provided buffer rings (Linux 6.0+): " +
                             features_.describe());
  if (options_.buffer_count == 0 || (options_.buffer_count & (options_.buffer_count - 1)) != 0 ||
      options_.buffer_count > 32768)
    throw std::invalid_argument("net.buffer_count must be a power of two <= 32768");

  io_uring_params p{};
  if (options_.sqpoll && features_.sqpoll) {
    p.flags |= IORING_SETUP_SQPOLL;
    p.sq_thread_idle = 1000;
    if (options_.sqpoll_cpu >= 0) {
      p.flags |= IORING_SETUP_SQ_AFF;
      p.sq_thread_cpu = static_cast<unsigned>(options_.sqpoll_cpu);
    }
  } else {
    // Completions of receives are posted by task work. Without these flags the kernel would
    // interrupt the spinning thread with an IPI to run it (measured: ~21 us UDP round trip against
    // ~7 us for epoll on this host); with them it only raises IORING_SQ_TASKRUN, which poll()
    // checks with a plain load before entering the kernel once to run the work.
    p.flags |= IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
    if (features_.defer_taskrun) {
      // DEFER_TASKRUN runs the work only inside io_uring_enter of the one issuing thread, which is
      // the polling thread: the ring starts disabled and that thread enables it.
      p.flags = IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_R_DISABLED |
                IORING_SETUP_TASKRUN_FLAG;
      disabled_until_thread_start_ = true;
    }
  }
  const int rc = io_uring_queue_init_params(options_.queue_depth, &ring_, &p);
  if (rc < 0) throw std::runtime_error("io_uring_queue_init_params: " + err_text(-rc));
  ring_ready_ = true;

  registered_ = features_.registered_files && io_uring_register_files_sparse(&ring_, kMaxSockets) == 0;

  buffer_mask_ = options_.buffer_count - 1;
  buf_ring_bytes_ = options_.buffer_count * sizeof(io_uring_buf);
  void* br = ::mmap(nullptr, buf_ring_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE | MAP_POPULATE, -1, 0);
  if (br == MAP_FAILED) throw std::runtime_error("mmap of the provided buffer ring: " + err_text(errno));
  buf_ring_ = static_cast<io_uring_buf_ring*>(br);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uint64_t>(buf_ring_);
  reg.ring_entries = options_.buffer_count;
  reg.bgid = kBufGroup;
  if (const int r = io_uring_register_buf_ring(&ring_, &reg, 0); r != 0)
    throw std::runtime_error("io_uring_register_buf_ring: " + err_text(-r));
  io_uring_buf_ring_init(buf_ring_);
  buffers_bytes_ = static_cast<std::size_t>(options_.buffer_count) * options_.buffer_size;
  void* mem = ::mmap(nullptr, buffers_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE | MAP_POPULATE, -1, 0);
  if (mem == MAP_FAILED) throw std::runtime_error("mmap of receive buffers: " + err_text(errno));
  buffers_ = static_cast<std::uint8_t*>(mem);
  for (unsigned i = 0; i < options_.buffer_count; ++i) recycle(static_cast<std::uint16_t>(i));
  io_uring_buf_ring_advance(buf_ring_, static_cast<int>(pending_recycles_));
  pending_recycles_ = 0;

  recvmsg_template_.msg_namelen = sizeof(sockaddr_in);
  recvmsg_template_.msg_controllen = kControlBytes;
  sockets_.resize(kMaxSockets);
}

UringBackend::~UringBackend() {
  if (ring_ready_) io_uring_queue_exit(&ring_);
  if (buffers_ != nullptr) ::munmap(buffers_, buffers_bytes_);
  if (buf_ring_ != nullptr) ::munmap(buf_ring_, buf_ring_bytes_);
}

void UringBackend::on_thread_start() noexcept {
  if (disabled_until_thread_start_) {
    // liburing 2.3 (Debian 12) declares io_uring_enable_rings but does not export it.
    ::syscall(__NR_io_uring_register, ring_.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0);
    disabled_until_thread_start_ = false;
    io_uring_submit(&ring_);
  }
}

std::string UringBackend::describe() const {
  return fmt::format("io_uring backend ({} poll{}{}, {} x {} B provided buffers); {}", options_.busy_poll ? "busy" : "blocking",
                     registered_ ? ", registered files" : "", options_.sqpoll && features_.sqpoll ? ", SQPOLL" : "",
                     options_.buffer_count, options_.buffer_size, features_.describe());
}

int UringBackend::add_udp(Fd fd, bool kernel_timestamps) {
  for (int i = 0; i < kMaxSockets; ++i) {
    Socket& s = sockets_[static_cast<std::size_t>(i)];
    if (s.open || s.fd.valid()) continue;
    if (kernel_timestamps) {
      const int one = 1;
      if (::setsockopt(fd.get(), SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) != 0)
        throw std::runtime_error("setsockopt(SO_TIMESTAMPNS): " + err_text(errno));
    }
    if (registered_) {
      const int raw = fd.get();
      if (const int r = io_uring_register_files_update(&ring_, static_cast<unsigned>(i), &raw, 1); r < 0)
        throw std::runtime_error("io_uring_register_files_update: " + err_text(-r));
    }
    s.fd = std::move(fd);
    s.udp = true;
    s.open = true;
    s.timestamps = kernel_timestamps;
    arm_recv(i);
    io_uring_submit(&ring_);
    need_submit_ = false;
    return i;
  }
  throw std::runtime_error(fmt::format("io_uring backend: more than {} sockets", kMaxSockets));
}

int UringBackend::add_tcp(Fd fd) {
  for (int i = 0; i < kMaxSockets; ++i) {
    Socket& s = sockets_[static_cast<std::size_t>(i)];
    if (s.open || s.fd.valid()) continue;
    if (registered_) {
      const int raw = fd.get();
      if (const int r = io_uring_register_files_update(&ring_, static_cast<unsigned>(i), &raw, 1); r < 0)
        throw std::runtime_error("io_uring_register_files_update: " + err_text(-r));
    }
    s.fd = std::move(fd);
    s.udp = false;
    s.open = true;
    s.send.capacity = options_.send_buffer_bytes;
    s.send.bytes.reset(new std::uint8_t[s.send.capacity]);
    s.send.head = s.send.tail = 0;
    s.send.in_flight = 0;
    arm_recv(i);
    io_uring_submit(&ring_);
    need_submit_ = false;
    return i;
  }
  throw std::runtime_error(fmt::format("io_uring backend: more than {} sockets", kMaxSockets));
}

void UringBackend::close_socket(int socket) noexcept {
  if (socket < 0 || socket >= kMaxSockets) return;
  Socket& s = sockets_[static_cast<std::size_t>(socket)];
  if (!s.fd.valid()) return;
  s.open = false;
  if (registered_) {
    const int none = -1;
    io_uring_register_files_update(&ring_, static_cast<unsigned>(socket), &none, 1);
  }
  ::shutdown(s.fd.get(), SHUT_RDWR);
  s.fd.reset();
}

void UringBackend::arm_recv(int socket) noexcept {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) return;
  }
  const Socket& s = sockets_[static_cast<std::size_t>(socket)];
  if (s.udp) io_uring_prep_recvmsg_multishot(sqe, file_index(socket), &recvmsg_template_, 0);
  else io_uring_prep_recv_multishot(sqe, file_index(socket), nullptr, 0, 0);
  sqe->flags |= static_cast<std::uint8_t>(sqe_flags() | IOSQE_BUFFER_SELECT);
  sqe->buf_group = kBufGroup;
  io_uring_sqe_set_data64(sqe, (static_cast<std::uint64_t>(socket) << 8) | kRecv);
  ++counters_.rearms;
  need_submit_ = true;
}

void UringBackend::submit_send(int socket) noexcept {
  Socket& s = sockets_[static_cast<std::size_t>(socket)];
  SendRing& q = s.send;
  if (q.in_flight != 0 || q.head == q.tail || !s.open) return;
  const std::size_t start = static_cast<std::size_t>(q.head % q.capacity);
  const std::size_t contiguous = q.capacity - start;
  const std::size_t pending = static_cast<std::size_t>(q.tail - q.head);
  const std::size_t n = pending < contiguous ? pending : contiguous;
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) return;
  }
  io_uring_prep_send(sqe, file_index(socket), q.bytes.get() + start, n, MSG_NOSIGNAL);
  sqe->flags |= static_cast<std::uint8_t>(sqe_flags());
  io_uring_sqe_set_data64(sqe, (static_cast<std::uint64_t>(socket) << 8) | kSend);
  q.in_flight = static_cast<std::uint32_t>(n);
  io_uring_submit(&ring_);
}

void UringBackend::on_send(int socket, const io_uring_cqe& cqe) noexcept {
  Socket& s = sockets_[static_cast<std::size_t>(socket)];
  s.send.in_flight = 0;
  if (cqe.res < 0) {
    ++counters_.send_errors;
    return;  // the receive side reports the broken connection
  }
  s.send.head += static_cast<std::uint64_t>(cqe.res);
  counters_.stream_bytes_out += static_cast<std::uint64_t>(cqe.res);
  submit_send(socket);
}

bool UringBackend::send(int socket, const void* data, std::size_t size) noexcept {
  Socket& s = sockets_[static_cast<std::size_t>(socket)];
  SendRing& q = s.send;
  if (!s.open || q.capacity == 0) {
    ++counters_.send_errors;
    return false;
  }
  if (q.capacity - static_cast<std::size_t>(q.tail - q.head) < size) {
    ++counters_.send_backlog_full;
    return false;
  }
  const auto* p = static_cast<const std::uint8_t*>(data);
  const std::size_t start = static_cast<std::size_t>(q.tail % q.capacity);
  const std::size_t first = size < q.capacity - start ? size : q.capacity - start;
  std::memcpy(q.bytes.get() + start, p, first);
  std::memcpy(q.bytes.get(), p + first, size - first);
  q.tail += size;
  submit_send(socket);
  return true;
}

bool UringBackend::send_to(int socket, const void* data, std::size_t size, const sockaddr_in& to) noexcept {
  // Gap requests and other rare UDP sends: a plain sendto is simpler than a sendmsg SQE whose
  // buffers must outlive it, and costs the same single syscall.
  const Socket& s = sockets_[static_cast<std::size_t>(socket)];
  const ssize_t n = ::sendto(s.fd.get(), data, size, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  if (n != static_cast<ssize_t>(size)) {
    ++counters_.send_errors;
    return false;
  }
  return true;
}

}  // namespace hft::net
