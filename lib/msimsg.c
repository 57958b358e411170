/* SPDX-License-Identifier: Apache-2.0 */
/* msimsg.c: x86 MSI messages decoded, checked and built, and the next-fit host vector allocator. */
#include "lib/msimsg.h"

static const char *const mode_name[8] = {
	"fixed", "lowest priority", "SMI", "reserved (3)", "NMI", "INIT", "reserved (6)", "ExtINT",
};

int msimsg_decode(uint64_t addr, uint32_t data, struct msi_msg *m, char *err, size_t errlen)
{
	unsigned mode = (data >> MSI_DATA_MODE_SHIFT) & 7;
	uint8_t vector = data & 0xff;

	if (addr >> 32 || ((uint32_t)addr & MSI_ADDR_BASE_MASK) != MSI_ADDR_BASE)
		return errorf(-EINVAL, err, errlen, "address 0x%lx is outside 0xfee00000-0xfeefffff",
			      addr);
	if (addr & MSI_ADDR_RSVD)
		return errorf(-EINVAL, err, errlen,
			      "address 0x%lx sets reserved bits 11:4 (no extended destination ID)",
			      addr);
	if (mode != MSI_MODE_FIXED && mode != MSI_MODE_LOWEST)
		return errorf(-EINVAL, err, errlen, "data 0x%x: delivery mode %s is not fixed or lowest priority",
			      data, mode_name[mode]);
	if (vector < 16)
		return errorf(-EINVAL, err, errlen, "data 0x%x: vector %u is below 16", data, vector);
	*m = (struct msi_msg){
		.dest = (uint8_t)(addr >> MSI_ADDR_DEST_SHIFT),
		.logical = addr & MSI_ADDR_DM_LOGICAL,
		.mode = (uint8_t)mode,
		.vector = vector,
	};
	return 0;
}

uint32_t msimsg_x2apic_dest(const struct msi_msg *m)
{
	if (!m->logical && m->dest == 0xff)
		return 0xffffffffu;
	return m->dest; /* physical: the ID; logical: cluster 0, members by bit */
}

void msimsg_encode(uint8_t apic_id, uint8_t vector, uint64_t *addr, uint32_t *data)
{
	*addr = MSI_ADDR_BASE | (uint32_t)apic_id << MSI_ADDR_DEST_SHIFT;
	*data = vector | MSI_MODE_FIXED << MSI_DATA_MODE_SHIFT;
}

void msimsg_vec_init(struct msi_vecmap *m, uint8_t first, uint8_t last)
{
	*m = (struct msi_vecmap){ .first = first, .last = last, .next = first };
}

bool msimsg_vec_used(const struct msi_vecmap *m, uint8_t vec)
{
	return m->used[vec / 64] & (1ULL << (vec % 64));
}

int msimsg_vec_alloc(struct msi_vecmap *m, uint8_t *vec)
{
	unsigned n = m->last - m->first + 1u;

	for (unsigned i = 0; i < n; i++) {
		unsigned v = m->first + (m->next - m->first + i) % n;

		if (!msimsg_vec_used(m, (uint8_t)v)) {
			m->used[v / 64] |= 1ULL << (v % 64);
			m->next = (uint16_t)(v == m->last ? m->first : v + 1);
			*vec = (uint8_t)v;
			return 0;
		}
	}
	return -ENOSPC;
}

void msimsg_vec_free(struct msi_vecmap *m, uint8_t vec)
{
	if (vec < m->first || vec > m->last)
		return;
	m->used[vec / 64] &= ~(1ULL << (vec % 64));
}
