/* tmpl_node.h — internal types of the template engine: tokens, parse nodes, trees, sets, values, function table. */
#ifndef SM_TMPL_NODE_H
#define SM_TMPL_NODE_H

#include <jansson.h>
#include <stddef.h>

#include "tmpl.h"

/* ---- lexer (lex.c) ---- */

enum tok_type {
	TK_ERROR, /* val is the message (arena-allocated) */
	TK_BOOL,
	TK_CHAR,      /* a printable ASCII character: ',' and the like */
	TK_CHARCONST, /* 'x' */
	TK_COMPLEX,
	TK_ASSIGN,  /* = */
	TK_DECLARE, /* := */
	TK_EOF,
	TK_FIELD, /* .name */
	TK_IDENT,
	TK_LDELIM,
	TK_LPAREN,
	TK_NUMBER,
	TK_PIPE,
	TK_RAWSTRING,
	TK_RDELIM,
	TK_RPAREN,
	TK_SPACE,
	TK_STRING,
	TK_TEXT,
	TK_VARIABLE,
	TK_KEYWORD, /* marks the start of keywords, never emitted */
	TK_BLOCK,
	TK_BREAK,
	TK_CONTINUE,
	TK_DOT,
	TK_DEFINE,
	TK_ELSE,
	TK_END,
	TK_IF,
	TK_NIL,
	TK_RANGE,
	TK_TEMPLATE,
	TK_WITH,
};

struct token {
	enum tok_type type;
	int pos;         /* byte offset in the source text */
	int line;        /* 1-based line of the token's first byte */
	const char *val; /* points into the source (or arena for TK_ERROR) */
	size_t len;
};

struct arena;
void *arena_alloc(struct arena *a, size_t n); /* zeroed; never fails (aborts on OOM) */
char *arena_strndup(struct arena *a, const char *s, size_t n);
struct arena *arena_new(void);
void arena_free(struct arena *a);

/* Lexes all of text into *toks (arena memory). The last token is TK_EOF or TK_ERROR. */
size_t tmpl_lex(struct arena *a, const char *text, size_t len, struct token **toks);
/* Go's item.String() for a token, used in "unexpected X in Y". */
void tmpl_token_str(const struct token *t, char *buf, size_t n);

/* ---- nodes (parse.c) ---- */

enum node_type {
	N_TEXT, N_ACTION, N_BOOL, N_CHAIN, N_COMMAND, N_DOT, N_FIELD, N_IDENT, N_IF, N_LIST, N_NIL,
	N_NUMBER, N_PIPE, N_RANGE, N_STRING, N_TEMPLATE, N_VARIABLE, N_WITH, N_BREAK, N_CONTINUE,
	N_END, N_ELSE,
};

struct tree;
struct tmpl_func;

struct node {
	enum node_type type;
	int pos;          /* byte offset in the tree's source text */
	int line;
	struct tree *tree; /* where the node lives (error context) */
	struct node **kids; /* List: items; Command: args; Pipe: commands */
	size_t nkids, capkids;
	struct node **decl; /* Pipe: declared variables */
	size_t ndecl;
	int is_assign;   /* Pipe: "=" rather than ":=" */
	const char **ident; /* Field: names; Variable: "$x" then fields; Chain: fields */
	size_t nident;
	const char *text; /* Text: bytes; String: unquoted; Ident: name; Template: name */
	size_t textlen;
	const char *orig; /* String/Number: source spelling */
	size_t origlen;
	struct node *pipe;      /* Action/If/Range/With/Template; Chain: the operand */
	struct node *list;      /* If/Range/With */
	struct node *else_list; /* If/Range/With */
	int is_int, is_float, is_char, is_complex, is_uint_only; /* Number */
	long long ival;
	double fval;
	int bval; /* Bool */
	const struct tmpl_func *fn; /* Ident: the function, resolved at parse time */
};

/* A parsed template: the root list of one file or one {{define}}. */
struct tree {
	const char *name;       /* the template's name */
	const char *parse_name; /* the name of the file it came from (error messages) */
	const char *src;        /* source text (arena) for error positions */
	size_t srclen;
	struct node *root;
};

struct tmpl_set {
	struct tree **trees; /* current definition of each name */
	size_t ntrees, captrees;
	struct arena **arenas; /* one per parse, freed with the set */
	size_t narenas, caparenas;
	int missingkey_error;
	int missingkey_zero; /* see tmpl_set_missingkey_zero */
	int helm;            /* see tmpl_set_helm */
	struct tbind *binds; /* objects with methods (tmpl_set_bind) */
	size_t nbinds, capbinds;
	struct tmpl_set *parent; /* tpl: lookups fall back to the parent set */
	size_t max_output;       /* 0 = unlimited; see tmpl_set_limits */
	unsigned long max_steps; /* 0 = unlimited */
	int tpl_counter;
	/* installed by tmpl_set_funcs: one batch per call, the latest first (later ones win). Batches
	 * never move, so a parsed identifier may keep a pointer to its entry. */
	struct tmpl_funcs_batch *funcs;
};

struct tmpl_funcs_batch {
	struct tmpl_funcs_batch *next; /* the batch installed before this one */
	void *ctx;                     /* tmpl_set_funcs_ctx's, for tf_ctx */
	size_t n;
	struct tmpl_func f[];
};

struct tree *tmpl_lookup(struct tmpl_set *set, const char *name);
/* Go's Node.String() appended to a growing buffer. */
struct sbuf;
void tmpl_node_string(const struct node *n, struct sbuf *b);

/* ---- small growing string buffer (fmt.c) ---- */
struct sbuf {
	char *s;
	size_t len, cap;
};
void sb_add(struct sbuf *b, const char *s, size_t n);
void sb_puts(struct sbuf *b, const char *s);
void sb_putc(struct sbuf *b, char c);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *sb_take(struct sbuf *b); /* NUL-terminated malloc'd string; the buffer is reset */

/* ---- values (exec.c) ---- */

/* A value as Go's executor sees it. j == NULL is the invalid reflect.Value ("<no value>").
 * boxed: the value was read out of a map or slice, so Go sees its static type as interface {}. */
struct tval {
	json_t *j;
	int boxed;
};

/* Go's type name of a value, as printed in error messages. */
const char *tv_type_name(const struct tval *v);
/* Truth as Go's if/with see it. */
int tv_truth(json_t *j);

/* ---- Go's fmt (fmt.c) ---- */
/* fmt.Sprint semantics: spaces between operands when neither is a string. */
void go_sprint(struct sbuf *b, json_t **args, size_t n);
void go_sprintln(struct sbuf *b, json_t **args, size_t n);
void go_sprintf(struct sbuf *b, const char *fmt, size_t fmtlen, json_t **args, size_t n);
/* %v of one value (NULL prints <nil>). */
void go_print_value(struct sbuf *b, json_t *j);
/* strconv.FormatFloat(f, fmt, prec, 64); prec -1 = shortest. */
void go_format_float(struct sbuf *b, double f, char fmt, int prec);
/* strconv.Quote. */
void go_quote(struct sbuf *b, const char *s, size_t n, int ascii_only);

/* ---- functions (funcs.c: Go's builtins; others are installed with tmpl_set_funcs) ---- */

struct exec_state;

/* One call of a template function. Arguments are already converted to the declared types. */
struct tmpl_call {
	struct exec_state *st;
	const char *name;
	json_t *result;  /* new reference, NULL for "no value" */
	const int *boxed; /* per argument: read out of a map or slice, so Go sees interface {} */
	json_t *recv;     /* a method call: the receiver (borrowed), else NULL */
	void *recv_ctx;   /* the context given to tmpl_set_bind */
	void *fn_ctx;     /* the called tmpl_func's ctx (tf_ctx) */
	char err[1024];  /* set (non-empty) and return -1 on error: "error calling NAME: err" */
};

/* Go's findFunction: the set's installed functions (the latest first, then its parent's, for tpl),
 * then the builtins. NULL when none has that name. */
const struct tmpl_func *tmpl_find_func(const struct tmpl_set *set, const char *name);

/* Objects with methods (Helm's .Files, .Capabilities ...): a value bound to a type answers
 * .Name ARGS... with the type's method of that name (methods come before map keys, as in Go). */
struct tobj_type {
	const char *name;            /* Go's type name, for messages */
	const struct tmpl_func *methods; /* called with c->recv set */
	size_t nmethods;
	/* When set, how the value prints ({{ . }}: Go calls String()) */
	void (*string)(json_t *obj, void *ctx, struct sbuf *b);
	const char *kind; /* reflect's Kind for kindOf ("struct", "ptr", "map"); NULL: the JSON value's */
};
struct tbind {
	json_t *obj; /* owned reference; matched by identity */
	const struct tobj_type *type;
	void *ctx;
};
/* Binds obj (a reference is taken) to type in set. */
void tmpl_set_bind(struct tmpl_set *set, json_t *obj, const struct tobj_type *type, void *ctx);
const struct tbind *tmpl_find_bind(struct tmpl_set *set, json_t *obj);
const struct tmpl_func *tmpl_builtin_funcs(size_t *n);
/* The ctx of the batch fn was installed with (set's or a parent's), else NULL. */
void *tmpl_func_ctx(const struct tmpl_set *set, const struct tmpl_func *fn);

/* Executes a template of the state's set into a string (include / tpl). Returns 0, or -1 with err
 * filled (the caller cuts it to its own buffer, keeping head and tail: tmpl_copy_ellipsized). */
int tmpl_exec_nested(struct exec_state *st, struct tmpl_set *set, const char *name, json_t *dot, char **out,
		     size_t *outlen, struct sm_error *err);
struct tmpl_set *tmpl_exec_set(struct exec_state *st);

/* semverCompare: 1 when version satisfies constraint ("a, b c || d", ^ ~ x-ranges, hyphen ranges),
 * 0 when not, -1 with err filled ("improper constraint: ...", "Invalid Semantic Version"). */
int tmpl_semver_compare(const char *constraint, const char *version, size_t vlen, struct sm_error *err);

/* A version's numbers, prerelease and build metadata (Masterminds/semver v3's NewVersion): 0, or -1 when invalid. */
int tmpl_semver_parts(const char *s, size_t n, long long nums[3], char *pre, size_t prelen, char *meta, size_t metalen);
/* Compares two valid versions: -1, 0, 1. */
int tmpl_semver_cmp(const char *a, size_t an, const char *b, size_t bn);

/* Copies src into dst, keeping head and tail around " [...] " when it does not fit. */
void tmpl_copy_ellipsized(char *dst, size_t dstlen, const char *src);

/* The results of a function call (tf_ret and friends) are declared in tmpl.h. */

#endif
