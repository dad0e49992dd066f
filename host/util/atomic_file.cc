#include "host/util/atomic_file.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace host::util {

struct EvpDeleter {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};

struct AtomicFile::Impl {
  std::string path;
  std::string tmp;
  int fd = -1;
  std::string buffer;
  int error = 0;  // first errno seen while writing
  std::unique_ptr<EVP_MD_CTX, EvpDeleter> sha{EVP_MD_CTX_new()};
  std::string digest_hex;

  ~Impl() {
    if (fd >= 0) ::close(fd);
    if (!tmp.empty()) ::unlink(tmp.c_str());
  }
  void flush() {
    std::size_t off = 0;
    while (off < buffer.size() && error == 0) {
      const ssize_t n = ::write(fd, buffer.data() + off, buffer.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error = errno;
        break;
      }
      off += static_cast<std::size_t>(n);
    }
    buffer.clear();
  }
};

AtomicFile::AtomicFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AtomicFile::AtomicFile(AtomicFile&&) noexcept = default;
AtomicFile& AtomicFile::operator=(AtomicFile&&) noexcept = default;
AtomicFile::~AtomicFile() = default;

std::expected<AtomicFile, std::string> AtomicFile::create(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  std::string tmpl = path + ".tmp-XXXXXX";
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) {
    return std::unexpected("cannot write '" + path + "': " + std::strerror(errno));
  }
  ::fchmod(fd, 0644);
  impl->fd = fd;
  impl->tmp = tmpl;
  if (!impl->sha || EVP_DigestInit_ex(impl->sha.get(), EVP_sha256(), nullptr) != 1) {
    return std::unexpected("cannot initialise SHA-256");
  }
  return AtomicFile(std::move(impl));
}

void AtomicFile::write(std::string_view data) {
  bytes_ += data.size();
  EVP_DigestUpdate(impl_->sha.get(), data.data(), data.size());
  impl_->buffer.append(data);
  if (impl_->buffer.size() >= (1u << 20)) impl_->flush();
}

std::expected<void, std::string> AtomicFile::commit() {
  impl_->flush();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->sha.get(), md, &len);
  static const char kHex[] = "0123456789abcdef";
  for (unsigned i = 0; i < len; ++i) {
    impl_->digest_hex += kHex[md[i] >> 4];
    impl_->digest_hex += kHex[md[i] & 15];
  }
  auto failed = [&](int err) {
    return std::unexpected("cannot write '" + impl_->path + "': " + std::strerror(err) +
                           " (nothing was changed)");
  };
  if (impl_->error != 0) return failed(impl_->error);
  if (::fsync(impl_->fd) != 0) return failed(errno);
  if (::close(impl_->fd) != 0) {
    impl_->fd = -1;
    return failed(errno);
  }
  impl_->fd = -1;
  if (::rename(impl_->tmp.c_str(), impl_->path.c_str()) != 0) return failed(errno);
  impl_->tmp.clear();
  // Make the rename itself durable.
  std::string dir = std::filesystem::path(impl_->path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

std::string AtomicFile::sha256_hex() const { return impl_->digest_hex; }

std::expected<void, std::string> write_file_atomically(const std::string& path,
                                                       std::string_view content) {
  auto f = AtomicFile::create(path);
  if (!f) return std::unexpected(f.error());
  f->write(content);
  return f->commit();
}

}  // namespace host::util
