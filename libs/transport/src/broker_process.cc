#include "vqi/transport/broker_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <system_error>
#include <thread>
#include <vector>

#include "vqi/base/file.h"

namespace vqi::transport {
namespace {

using Clock = std::chrono::steady_clock;

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

// Logged by Mosquitto 2.x once its listeners are open ("mosquitto version 2.0.11 running").
constexpr const char* kRunningMarker = " running\n";

// The log's text from byte `offset` on (at most 1 MiB).
std::string LogFrom(const std::string& path, off_t offset) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out(1 << 20, '\0');
  const ssize_t n = ::pread(fd, out.data(), out.size(), offset);
  ::close(fd);
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

}  // namespace

bool MosquittoAvailable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

std::string MosquittoCommandLine(const std::string& config_path,
                                 const std::string& mosquitto_path) {
  return mosquitto_path + " -c " + config_path;
}

BrokerProcess::BrokerProcess(BrokerProcessOptions options) : options_(std::move(options)) {
  if (options_.config.acl_file.empty()) options_.config.acl_file = options_.dir + "/acl";
}

BrokerProcess::~BrokerProcess() { Stop(); }

std::string BrokerProcess::Log(size_t max_bytes) const {
  auto text = ReadFile(log_path());
  if (!text.ok()) return "";
  if (text->size() > max_bytes) return "..." + text->substr(text->size() - max_bytes);
  return *text;
}

Status BrokerProcess::WriteFiles() {
  if (options_.dir.empty()) return InvalidArgument("broker folder is empty");
  VQI_RETURN_IF_ERROR(MakeDirs(options_.dir));
  if (!options_.config.persistence_dir.empty())
    VQI_RETURN_IF_ERROR(MakeDirs(options_.config.persistence_dir));
  VQI_RETURN_IF_ERROR(WriteFileAtomic(options_.config.acl_file, MosquittoAcl(options_.config)));
  return WriteFileAtomic(config_path(), MosquittoConf(options_.config));
}

Status BrokerProcess::Start() {
  if (pid_ > 0)
    return FailedPrecondition("mosquitto is already running (pid " + std::to_string(pid_) + ")");
  if (!MosquittoAvailable(options_.mosquitto_path))
    return FailedPrecondition(options_.mosquitto_path +
                              " not found: install the Debian package mosquitto");
  const std::string log = log_path();
  struct stat st {};
  if (::stat(log.c_str(), &st) == 0 && static_cast<size_t>(st.st_size) > options_.max_log_bytes)
    (void)::rename(log.c_str(), (log + ".1").c_str());
  const off_t log_start = ::stat(log.c_str(), &st) == 0 ? st.st_size : 0;
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (log_fd < 0) return Unavailable(log + ": open: " + ErrnoText(errno));
  // Everything the child needs is prepared before fork: only async-signal-safe calls after it.
  const std::string program = options_.mosquitto_path, conf = config_path();
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(log_fd);
    return Unavailable("fork: " + ErrnoText(err));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the thread that started it
    if (::getppid() != parent) ::_exit(127);
    ::setpgid(0, 0);  // a terminal's Ctrl-C goes to vqi, which stops the broker in order
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the parent may block SIGTERM for sigwait
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE}) ::signal(sig, SIG_DFL);
    const int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
    }
    ::dup2(log_fd, 2);
    ::execl(program.c_str(), program.c_str(), "-c", conf.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(log_fd);
  pid_ = pid;
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.start_timeout_ms);
  while (Clock::now() < deadline) {
    std::string how;
    if (!Alive(&how))
      return Unavailable("mosquitto exited during start-up (" + how + "); " + log + ":\n" +
                         Log(4096));
    // Ready: Mosquitto logged "mosquitto version X running", which it does after it loaded
    // the TLS files and opened its listeners. (Not a TCP probe: another process listening on
    // the port would answer it while our Mosquitto fails to bind, and every probe would log
    // a failed TLS connection.)
    if (LogFrom(log, log_start).find(kRunningMarker) != std::string::npos) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Stop();
  return Unavailable("mosquitto did not listen on " + address() + " within " +
                     std::to_string(options_.start_timeout_ms) + " ms; " + log + ":\n" + Log(4096));
}

bool BrokerProcess::Alive(std::string* how) {
  if (pid_ <= 0) {
    if (how) *how = "not started";
    return false;
  }
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (how) *how = r == pid_ ? DescribeExit(status) : "lost (" + ErrnoText(errno) + ")";
  pid_ = -1;
  return false;
}

Status BrokerProcess::Reload() {
  if (!Alive()) return FailedPrecondition("mosquitto is not running");
  struct stat st {};
  const off_t from = ::stat(log_path().c_str(), &st) == 0 ? st.st_size : 0;
  if (::kill(pid_, SIGHUP) != 0) return Unavailable("kill -HUP: " + ErrnoText(errno));
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    if (LogFrom(log_path(), from).find("Reloading config") != std::string::npos) {
      // The reload happens right after the log line; give the loop a moment to finish it.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      return Status::Ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return DeadlineExceeded("mosquitto did not log a reload within 5 s:\n" + Log(4096));
}

Status BrokerProcess::Restart() {
  Stop();
  return Start();
}

void BrokerProcess::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.stop_timeout_ms);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

Result<std::unique_ptr<BrokerProcess>> StartBrokerProcess(const BrokerProcessOptions& options) {
  auto broker = std::make_unique<BrokerProcess>(options);
  VQI_RETURN_IF_ERROR(broker->WriteFiles());
  VQI_RETURN_IF_ERROR(broker->Start());
  return broker;
}

}  // namespace vqi::transport
