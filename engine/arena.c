/* arena.c: bump allocation in blocks for objects that live and die together (a compiled kb).
 * Small requests are carved from 64 KiB blocks; a request too big for that gets a block of its
 * own. With -DFX_ARENA_MALLOC each allocation is its own block so memory checkers see it. */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 16u
#define BLOCK_SIZE (64u * 1024u)

struct fx_arena_block {
	fx_arena_block *next; /* older block */
	size_t used;          /* bytes handed out from data */
	size_t cap;           /* bytes available in data */
	/* The header is padded to ALIGN so that data starts aligned (malloc returns memory
	 * aligned for max_align_t, which is 16 on the platforms we target). */
	_Alignas(16) unsigned char data[];
};

void fx_arena_init(fx_arena *a)
{
	a->head = NULL;
	a->total = 0;
}

void fx_arena_dispose(fx_arena *a)
{
	fx_arena_block *b = a->head;
	while (b) {
		fx_arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->total = 0;
}

static fx_arena_block *new_block(size_t cap)
{
	if (cap > SIZE_MAX - sizeof(fx_arena_block))
		return NULL;
	/* Not zeroed: fx_arena_alloc zeroes what it hands out, so a block of which a load uses a
	 * few KiB does not cost a 64 KiB memset. */
	fx_arena_block *b = malloc(sizeof(fx_arena_block) + cap);
	if (!b)
		return NULL;
	b->next = NULL;
	b->used = 0;
	b->cap = cap;
	return b;
}

#ifdef FX_ARENA_MALLOC

static void *carve(fx_arena *a, size_t size)
{
	fx_arena_block *b = new_block(size ? size : 1);
	if (!b)
		return NULL;
	b->used = b->cap;
	b->next = a->head;
	a->head = b;
	a->total += size;
	return b->data;
}

#else

static void *carve(fx_arena *a, size_t size)
{
	if (size == 0)
		size = 1;
	if (size > SIZE_MAX - ALIGN)
		return NULL;
	size_t need = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	fx_arena_block *b = a->head;
	if (!b || b->cap - b->used < need) {
		if (need > BLOCK_SIZE / 4) {
			/* A big request gets its own block, placed behind the current one so the
			 * current block's free tail stays usable. */
			fx_arena_block *big = new_block(need);
			if (!big)
				return NULL;
			big->used = need;
			if (b) {
				big->next = b->next;
				b->next = big;
			} else {
				a->head = big;
			}
			a->total += size;
			return big->data;
		}
		b = new_block(BLOCK_SIZE);
		if (!b)
			return NULL;
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += need;
	a->total += size;
	return p;
}

#endif

/* Zeroed per allocation rather than per block: a load uses a fraction of its last block, and
 * the copies below need no zeroing at all. */
void *fx_arena_alloc(fx_arena *a, size_t size)
{
	void *p = carve(a, size);
	if (p && size)
		memset(p, 0, size);
	return p;
}

char *fx_arena_strndup(fx_arena *a, const char *s, size_t len)
{
	if (len == SIZE_MAX)
		return NULL;
	char *p = carve(a, len + 1);
	if (!p)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *fx_arena_strdup(fx_arena *a, const char *s)
{
	return fx_arena_strndup(a, s, strlen(s));
}

void *fx_arena_memdup(fx_arena *a, const void *p, size_t size)
{
	void *q = carve(a, size);
	if (q && size)
		memcpy(q, p, size);
	return q;
}
