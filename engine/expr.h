/* expr.h: the expression language used in `test:`, in slot constraints (`> ?x + 1`) and in
 * action values (`= ?c + 1`): parsing text into a tree at load time, evaluating it at run time.
 * Infix, with function calls; see docs/rule-language.md for the grammar. */
#ifndef FX_EXPR_H
#define FX_EXPR_H

#include "ast.h"
#include "arena.h"
#include "buf.h"

typedef enum fx_expr_kind {
	FX_X_CONST,    /* val */
	FX_X_VAR,      /* var: a rule variable id */
	FX_X_AND,      /* args[0] and args[1], short-circuit */
	FX_X_OR,
	FX_X_NOT,
	FX_X_CALL      /* fn applied to args (operators are calls too: "+", "==", ...) */
} fx_expr_kind;

struct fx_eval;
struct fx_expr;

/* A built-in function. Arguments are already evaluated. Returns 0 or a negative FX_E* code,
 * with a message left in ev->err. */
typedef int (*fx_fn_impl)(struct fx_eval *ev, const struct fx_expr *call, const fx_val *args,
                          uint32_t nargs, fx_val *out);

typedef struct fx_func {
	const char *name;
	int min_args, max_args;   /* max_args -1: variadic */
	fx_fn_impl impl;
} fx_func;

typedef struct fx_expr {
	fx_expr_kind kind;
	fx_pos pos;               /* where this node's text starts */
	fx_val val;               /* FX_X_CONST */
	uint32_t var;             /* FX_X_VAR */
	const fx_func *fn;        /* FX_X_CALL */
	struct fx_expr **args;
	uint32_t nargs;
} fx_expr;

/* Resolves a variable name (without '?') met in an expression: returns its id, or -1 after
 * reporting the problem itself (unknown variable...). */
typedef int32_t (*fx_var_resolver)(void *ud, const char *name, size_t len, fx_pos pos);

/* Reports a syntax error at pos. */
typedef void (*fx_expr_error_fn)(void *ud, fx_pos pos, unsigned span, const char *msg);

typedef struct fx_expr_parser {
	fx_arena *arena;          /* nodes are allocated here */
	fx_atoms *atoms;          /* symbol and string constants are interned here */
	fx_var_resolver resolve;
	fx_expr_error_fn error;
	void *ud;                 /* passed to resolve and error */
} fx_expr_parser;

/* Parse text[0..len) as one expression. pos is the position of text[0]; positions inside are
 * computed from it (same line, col + offset, for single-line text). Returns NULL after
 * reporting through p->error (or on out-of-memory, with message "out of memory"). */
fx_expr *fx_expr_parse(fx_expr_parser *p, const char *text, size_t len, fx_pos pos);

/* Look up a built-in function by name, or NULL. */
const fx_func *fx_expr_func(const char *name, size_t len);

/* Evaluation context. get_var returns a variable's current value. */
typedef struct fx_eval {
	int (*get_var)(struct fx_eval *ev, uint32_t var, fx_val *out);
	void *ud;                 /* for get_var */
	fx_atoms *atoms;          /* where texts made at run time are interned */
	fx_buf *err;              /* receives a message on failure; may be NULL */
	fx_buf scratch;           /* scratch space for string building; owner initialises */
} fx_eval;

/* Evaluate e. Returns 0 or a negative code with a message in ev->err. */
int fx_expr_eval(fx_eval *ev, const fx_expr *e, fx_val *out);

/* Call fn for each variable id used in e (for dependency analysis). */
void fx_expr_vars(const fx_expr *e, void (*fn)(void *ud, uint32_t var), void *ud);

/* Render e back as text (for explanations and why-not). */
void fx_expr_format(fx_buf *b, const fx_expr *e, const fx_rule_def *rule);

#endif
