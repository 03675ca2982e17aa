// libcap for Swift.
#include <sys/capability.h>
