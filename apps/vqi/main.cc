// vqi: the command line. Thin: parses flags and calls libraries (cli.cc, <lib>_cmd*.cc).
#include <cstdlib>
#include <cstring>

#include "cli.h"

namespace {

// OpenMP's wait policy for `vqi model train` and `vqi model cv`, set in-process before libgomp
// initialises, with no re-exec (issue 17; measured reasons in docs/design/training.md).
//
// libgomp (libtorch's and oneDNN's OpenMP) reads OMP_WAIT_POLICY once, in its ELF constructor,
// before main(): setenv() in main() or before the first parallel region is too late. A
// function in the executable's .preinit_array runs before every shared library's constructor,
// but also before libc's, which then resets `environ` to the original array, losing a
// setenv(). So the function lends libgomp one slot of that original array: it points an
// entry of a variable no library reads at start-up (`_`, OLDPWD, SHLVL or PWD) at
// "OMP_WAIT_POLICY=PASSIVE", and main() puts the entry back and sets the policy with setenv()
// for child processes. With none of those variables (e.g. `env -i`), libgomp's default stays.
// A policy the caller set is always kept. The wait policy is process-wide by nature.
char kPassive[] = "OMP_WAIT_POLICY=PASSIVE";
char** g_lent_slot = nullptr;
char* g_lent_value = nullptr;

bool IsTrain(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "model") == 0 &&
        (std::strcmp(argv[i + 1], "train") == 0 || std::strcmp(argv[i + 1], "cv") == 0))
      return true;
  return false;
}

void PassiveOpenMpForTraining(int argc, char** argv, char** envp) {
  if (envp == nullptr || !IsTrain(argc, argv)) return;
  for (char** e = envp; *e != nullptr; ++e)
    if (std::strncmp(*e, "OMP_WAIT_POLICY=", 16) == 0) return;
  for (const char* name : {"_=", "OLDPWD=", "SHLVL=", "PWD="})
    for (char** e = envp; *e != nullptr; ++e)
      if (std::strncmp(*e, name, std::strlen(name)) == 0) {
        g_lent_slot = e;
        g_lent_value = *e;
        *e = kPassive;
        return;
      }
}

[[gnu::section(".preinit_array"),
  gnu::used]] void (*const kPreinit)(int, char**, char**) = &PassiveOpenMpForTraining;

}  // namespace

int main(int argc, char** argv) {
  if (g_lent_slot != nullptr) {
    *g_lent_slot = g_lent_value;
    setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
  }
  return vqi::cli::Main(argc, argv);
}
