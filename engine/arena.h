/* arena.h: bump allocation for things that live and die together (a compiled knowledge base).
 * Built with -DFX_ARENA_MALLOC every allocation becomes a plain malloc kept on a list, so that
 * ASan and valgrind see each object on its own. */
#ifndef FX_ARENA_H
#define FX_ARENA_H

#include <stddef.h>

typedef struct fx_arena_block fx_arena_block;

typedef struct fx_arena {
	fx_arena_block *head; /* newest block first; freed all at once */
	size_t total;         /* bytes handed out, for statistics */
} fx_arena;

void fx_arena_init(fx_arena *a);
void fx_arena_dispose(fx_arena *a);
/* Zeroed memory aligned for any type, or NULL when out of memory. */
void *fx_arena_alloc(fx_arena *a, size_t size);
/* A NUL-terminated copy of s[0..len). */
char *fx_arena_strndup(fx_arena *a, const char *s, size_t len);
char *fx_arena_strdup(fx_arena *a, const char *s);
void *fx_arena_memdup(fx_arena *a, const void *p, size_t size);

#endif
