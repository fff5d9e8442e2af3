// vqi: the command line. Thin: parses flags and calls libraries (cli.cc, <lib>_cmd*.cc).
#include "cli.h"

int main(int argc, char** argv) { return vqi::cli::Main(argc, argv); }
