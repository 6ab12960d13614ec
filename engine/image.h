/* image.h: a checked program saved as bytes and read back without the loader (image.c): what
 * fx_kb_save_image and fx_kb_load_image are made of. */
#ifndef FX_IMAGE_H
#define FX_IMAGE_H

#include "ast.h"
#include "arena.h"
#include "buf.h"
#include "diag.h"
#include "value.h"

/* Append the image of prog (its values' atoms in atoms, its texts in sources) to *out.
 * 0, FX_ENOMEM, FX_ELIMIT (over 4 GiB), or FX_EINVAL when prog holds something an image
 * cannot say (a value outside atoms, a position in a file prog does not list). */
int fx_image_write(fx_buf *out, const fx_program *prog, const fx_atoms *atoms,
                   const fx_source *sources, size_t nsources);

/* Rebuild *prog from image[0..len): allocations in arena, atoms interned in atoms, deferred
 * regexes pushed on regexes (the caller frees them), *sources an arena array of the texts.
 * Texts are borrowed from image, which must outlive prog. 0; FX_EINVAL with *why saying what
 * is wrong (not an image, another version, damaged); FX_ENOMEM. On failure, what was
 * allocated is left to the arena and regexes for the caller to dispose of. */
int fx_image_read(fx_program *prog, fx_arena *arena, fx_atoms *atoms, fx_vec *regexes,
                  fx_source **sources, size_t *nsources, const void *image, size_t len,
                  const char **why);

/* The checksum an image's header holds of its body (exposed for tests that damage images). */
uint32_t fx_image_checksum(const void *data, size_t len);

#endif
