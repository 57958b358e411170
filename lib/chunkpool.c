/* SPDX-License-Identifier: Apache-2.0 */
/* chunkpool.c: bookkeeping of the 2 MiB guest RAM chunks (see chunkpool.h). */
#include "lib/chunkpool.h"

size_t cp_storage_bytes(uint32_t cap)
{
	return (size_t)cap * (3 * sizeof(uint32_t) + 1);
}

void cp_init(struct chunkpool *p, uint32_t cap, void *storage)
{
	uint8_t *s = storage;

	*p = (struct chunkpool){ .cap = cap };
	p->clean = (uint32_t *)s;
	p->fresh = (uint32_t *)(s + (size_t)cap * sizeof(uint32_t));
	p->dirty = (uint32_t *)(s + (size_t)cap * 2 * sizeof(uint32_t));
	p->state = s + (size_t)cap * 3 * sizeof(uint32_t);
	memset(p->state, CP_ABSENT, cap);
}

static void push(struct chunkpool *p, uint32_t idx, enum cp_state st)
{
	if (st == CP_CLEAN)
		p->clean[p->nclean++] = idx;
	else if (st == CP_FRESH)
		p->fresh[p->nfresh++] = idx;
	else
		p->dirty[p->ndirty++] = idx;
	p->state[idx] = (uint8_t)st;
}

int cp_add(struct chunkpool *p, uint32_t idx, bool clean)
{
	if (idx >= p->cap || p->state[idx] != CP_ABSENT)
		return -EINVAL;
	push(p, idx, clean ? CP_CLEAN : CP_FRESH);
	return 0;
}

uint64_t cp_free_count(const struct chunkpool *p)
{
	return (uint64_t)p->nclean + p->nfresh + p->ndirty + p->nscrubbing;
}

uint64_t cp_available(const struct chunkpool *p)
{
	/* cp_reserve() and cp_free() keep reserved <= free. */
	return cp_free_count(p) - p->reserved;
}

int cp_reserve(struct chunkpool *p, struct cp_account *a, uint64_t n)
{
	if (n > cp_available(p))
		return -ENOMEM;
	a->limit += n;
	p->reserved += n;
	return 0;
}

void cp_unreserve(struct chunkpool *p, struct cp_account *a)
{
	p->reserved -= a->limit - a->taken;
	a->limit = a->taken;
}

int cp_take(struct chunkpool *p, struct cp_account *a, uint32_t *idx, bool *dirty)
{
	uint32_t i;

	if (a->taken >= a->limit)
		return -ENOSPC;
	if (p->nclean) {
		i = p->clean[--p->nclean];
		*dirty = false;
	} else if (p->ndirty) {
		i = p->dirty[--p->ndirty];
		*dirty = true;
	} else if (p->nfresh) {
		i = p->fresh[--p->nfresh];
		*dirty = true;
	} else {
		return p->nscrubbing ? -EBUSY : -ENOMEM;
	}
	p->state[i] = CP_TAKEN;
	p->ntaken++;
	p->reserved--;
	a->taken++;
	*idx = i;
	return 0;
}

/* Removes idx from the stack st[0 .. *n), keeping the others' order; false if it is not there. */
static bool unstack(uint32_t *st, uint32_t *n, uint32_t idx)
{
	for (uint32_t k = *n; k-- > 0; )
		if (st[k] == idx) {
			memmove(&st[k], &st[k + 1], (*n - k - 1) * sizeof(*st));
			(*n)--;
			return true;
		}
	return false;
}

int cp_take_at(struct chunkpool *p, struct cp_account *a, uint32_t idx, bool *dirty)
{
	uint8_t st;
	bool found;

	if (idx >= p->cap)
		return -EINVAL;
	st = p->state[idx];
	if (st == CP_ABSENT)
		return -ENOENT;
	if (st == CP_TAKEN || st == CP_SCRUBBING)
		return -EBUSY;
	if (!cp_available(p))
		return -ENOMEM;
	found = st == CP_CLEAN ? unstack(p->clean, &p->nclean, idx)
	      : st == CP_FRESH ? unstack(p->fresh, &p->nfresh, idx)
			       : unstack(p->dirty, &p->ndirty, idx);
	if (!found)
		return -EINVAL; /* not reached: a free chunk is on its stack */
	p->state[idx] = CP_TAKEN;
	p->ntaken++;
	a->limit++;
	a->taken++;
	*dirty = st != CP_CLEAN;
	return 0;
}

enum cp_state cp_state_of(const struct chunkpool *p, uint32_t idx)
{
	return idx < p->cap ? (enum cp_state)p->state[idx] : CP_ABSENT;
}

int cp_free(struct chunkpool *p, struct cp_account *a, uint32_t idx)
{
	if (idx >= p->cap || p->state[idx] != CP_TAKEN || !a->taken)
		return -EINVAL;
	push(p, idx, CP_DIRTY);
	p->ntaken--;
	p->reserved++; /* back under a's reservation until cp_unreserve() */
	a->taken--;
	return 0;
}

int cp_scrub_begin(struct chunkpool *p, uint32_t *idx)
{
	if (!p->ndirty)
		return -ENOENT;
	*idx = p->dirty[--p->ndirty];
	p->state[*idx] = CP_SCRUBBING;
	p->nscrubbing++;
	return 0;
}

int cp_scrub_end(struct chunkpool *p, uint32_t idx)
{
	if (idx >= p->cap || p->state[idx] != CP_SCRUBBING)
		return -EINVAL;
	p->nscrubbing--;
	push(p, idx, CP_CLEAN);
	return 0;
}

int cp_scrub_abort(struct chunkpool *p, uint32_t idx)
{
	if (idx >= p->cap || p->state[idx] != CP_SCRUBBING)
		return -EINVAL;
	p->nscrubbing--;
	push(p, idx, CP_DIRTY);
	return 0;
}

int cp_release(struct chunkpool *p, uint32_t *idx)
{
	if (!cp_available(p))
		return -ENOMEM;
	if (p->nfresh)
		*idx = p->fresh[--p->nfresh];
	else if (p->ndirty)
		*idx = p->dirty[--p->ndirty];
	else if (p->nclean)
		*idx = p->clean[--p->nclean];
	else
		return -EBUSY;
	p->state[*idx] = CP_ABSENT;
	return 0;
}

uint64_t cp_reclaim(struct chunkpool *p, uint64_t n, bool (*claim)(void *ctx, uint32_t idx),
		    void *ctx)
{
	uint64_t got = 0;

	for (uint32_t i = 0; i < p->cap && got < n; i++)
		if (p->state[i] == CP_ABSENT && claim(ctx, i)) {
			push(p, i, CP_FRESH);
			got++;
		}
	return got;
}
