// libseccomp for Swift: the header, plus functions for the action macros Swift cannot import.
#include <seccomp.h>
#include <errno.h>

static inline uint32_t cseccomp_act_allow(void) { return SCMP_ACT_ALLOW; }
static inline uint32_t cseccomp_act_kill_process(void) { return SCMP_ACT_KILL_PROCESS; }
static inline uint32_t cseccomp_act_log(void) { return SCMP_ACT_LOG; }
static inline uint32_t cseccomp_act_errno(uint16_t code) { return SCMP_ACT_ERRNO(code); }
static inline struct scmp_arg_cmp cseccomp_arg(unsigned int index, enum scmp_compare op, uint64_t a, uint64_t b) {
    struct scmp_arg_cmp cmp = { index, op, a, b };
    return cmp;
}
