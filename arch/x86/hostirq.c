/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostirq.c: devices' interrupts on the host vectors HOSTIRQ_FIRST-LAST.
 * The trap handler only notes each one (a count per vector and a bit in a
 * pending map) and EOIs it; pvh/msi.c takes the notes from a safe point
 * and delivers.  Nothing here takes a lock: the handler may interrupt
 * anything.
 */
#include "arch/x86/arch.h"
#include "arch/x86/hw.h"

static uint64_t pending_map[4];
static uint64_t pending_count[256];

void hostirq_note(unsigned vec)
{
	/* Count first, bit second: a taker that clears the bit before the count still finds it next time. */
	__atomic_fetch_add(&pending_count[vec & 0xff], 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_or(&pending_map[(vec & 0xff) / 64], 1ULL << (vec % 64), __ATOMIC_SEQ_CST);
}

bool hostirq_take_pending(uint64_t map[4])
{
	bool any = false;

	for (unsigned i = 0; i < 4; i++) {
		map[i] = __atomic_load_n(&pending_map[i], __ATOMIC_RELAXED)
				 ? __atomic_exchange_n(&pending_map[i], 0, __ATOMIC_SEQ_CST)
				 : 0;
		any |= map[i] != 0;
	}
	return any;
}

uint64_t hostirq_take(uint8_t vec)
{
	return __atomic_exchange_n(&pending_count[vec], 0, __ATOMIC_SEQ_CST);
}

void hostirq_send(uint32_t apic_id, uint8_t vec)
{
	lapic_send_ipi(apic_id, vec);
}
