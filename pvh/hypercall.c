/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hypercall.c: the hypercalls of guest-abi/pvhv/hypercall.h.  Every
 * argument is checked before anything happens; a bad one returns an error
 * in RAX and changes nothing.
 */
#include "pvh/pvh.h"
#include "pvhv/abi.h"

static int64_t hc_console_write(struct vcpu *v, uint64_t gpa, uint64_t len)
{
	char buf[256];
	uint64_t done = 0;

	if (len > PVHV_CONSOLE_WRITE_MAX)
		return -PVHV_EINVAL;
	if (!rl_chunk(&v->dom->ram, gpa, len, NULL))
		return -PVHV_EFAULT;
	while (done < len) {
		size_t n = MIN(sizeof(buf), len - done);

		if (dom_copy_from_guest(v->dom, buf, gpa + done, n))
			return -PVHV_EFAULT;
		console_feed(v->dom, CONBUF_SERIAL, buf, n);
		done += n;
	}
	return (int64_t)done;
}

static enum exit_action hc_shutdown(struct vcpu *v, uint64_t reason, uint64_t status, int64_t *ret)
{
	static const enum dom_end how[] = {
		[PVHV_SHUTDOWN_POWEROFF] = END_POWEROFF,
		[PVHV_SHUTDOWN_REBOOT] = END_REBOOT,
		[PVHV_SHUTDOWN_CRASH] = END_CRASH,
	};

	if (reason >= ARRAY_SIZE(how) || status > 255) {
		*ret = -PVHV_EINVAL;
		return ACT_CONTINUE;
	}
	domain_end(v->dom, how[reason], (unsigned)status, NULL);
	return ACT_DEAD;
}

enum exit_action hypercall_dispatch(struct vcpu *v, const struct vcpu_exit *e)
{
	uint64_t *g = v->hw.regs;
	bool wide = vcpu_ops->get_reg(&v->hw, VREG_CS_MODE) == 64;
	uint64_t mask = wide ? ~0ULL : 0xffffffffULL;
	uint64_t nr = g[GPR_RAX] & mask;
	uint64_t a1 = g[GPR_RDI] & mask, a2 = g[GPR_RSI] & mask;
	enum exit_action act = ACT_CONTINUE;
	int64_t ret;

	/* Only the guest kernel may call (Jailhouse and ACRN do the same). */
	if (vcpu_ops->get_reg(&v->hw, VREG_CPL) != 0) {
		ret = -PVHV_EPERM;
	} else {
		switch (nr) {
		case PVHV_HC_VERSION:
			ret = PVHV_ABI_VERSION;
			break;
		case PVHV_HC_CONSOLE_WRITE:
			ret = hc_console_write(v, a1, a2);
			break;
		case PVHV_HC_YIELD:
			ret = 0;
			act = ACT_YIELD;
			break;
		case PVHV_HC_SHUTDOWN:
			act = hc_shutdown(v, a1, a2, &ret);
			break;
		default:
			ret = -PVHV_ENOSYS;
			break;
		}
	}
	if (act == ACT_DEAD)
		return act;
	g[GPR_RAX] = (uint64_t)ret & mask;
	vcpu_ops->skip_insn(&v->hw, e);
	return act;
}
