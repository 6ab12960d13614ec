/* test_repl_pty.c: end-to-end tests of `fixit repl` at a terminal. Each test runs the real
 * binary ($BUILD/fixit) on a pseudo-terminal (forkpty), types into it as a person would
 * (bracketed paste, Tab, arrow keys, Ctrl-C) and waits for what should appear, with a timeout on
 * every wait so that a REPL that hangs fails the test instead of the suite. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* Long enough for a sanitizer build on a busy machine; a healthy REPL answers in milliseconds. */
#define WAIT_MS 15000
#define KB "tests/golden/data/repl-kb.yaml"
#define PASTE_BEGIN "\033[200~"
#define PASTE_END "\033[201~"

typedef struct term {
	pid_t pid;
	int fd;              /* the master side */
	char *out;           /* everything read, escape sequences and CRs removed */
	size_t len, cap;
	size_t mark;         /* expect() looks only after this offset */
	int esc;             /* inside an escape sequence: 1 after ESC, 2 inside CSI */
} term;

static char state_dir[512];

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Keeps the text a person would see: escape sequences (cursor moves, bracketed-paste mode
 * switches) and carriage returns are dropped. */
static void keep(term *t, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (t->esc == 1) {
			t->esc = c == '[' ? 2 : 0;
			continue;
		}
		if (t->esc == 2) {
			if (c >= 0x40 && c <= 0x7e)
				t->esc = 0;
			continue;
		}
		if (c == 033) {
			t->esc = 1;
			continue;
		}
		if (c == '\r' || c == '\a')
			continue;
		if (t->len + 2 > t->cap) {
			t->cap = t->cap ? t->cap * 2 : 4096;
			t->out = realloc(t->out, t->cap);
			assert_non_null(t->out);
		}
		t->out[t->len++] = (char)c;
		t->out[t->len] = '\0';
	}
}

/* Reads what is available within ms milliseconds; 0 at end of output. */
static int pump(term *t, int ms)
{
	struct pollfd pf = {t->fd, POLLIN, 0};
	char buf[4096];
	ssize_t n;

	if (poll(&pf, 1, ms) <= 0)
		return 1;
	n = read(t->fd, buf, sizeof buf);
	if (n <= 0)
		return 0; /* EIO: the child closed the terminal */
	keep(t, buf, (size_t)n);
	return 1;
}

/* Waits until `want` appears after the mark; the mark then moves past it. */
static void expect(term *t, const char *want)
{
	long end = now_ms() + WAIT_MS;
	char *hit;

	for (;;) {
		if (t->out && (hit = strstr(t->out + t->mark, want)) != NULL) {
			t->mark = (size_t)(hit - t->out) + strlen(want);
			return;
		}
		if (now_ms() > end || !pump(t, 100)) {
			if (t->out && strstr(t->out + t->mark, want))
				continue;
			print_error("expected \"%s\" after:\n%s\n", want, t->out ? t->out + t->mark : "");
			fail();
		}
	}
}

/* Reads for a moment and checks that `unwanted` did not appear since the mark. */
static void expect_not_now(term *t, const char *unwanted, int ms)
{
	long end = now_ms() + ms;

	while (now_ms() < end && pump(t, 20))
		;
	if (t->out && strstr(t->out + t->mark, unwanted)) {
		print_error("did not expect \"%s\" in:\n%s\n", unwanted, t->out + t->mark);
		fail();
	}
}

static void type(term *t, const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = write(t->fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		assert_true(w > 0);
		s += w;
		n -= (size_t)w;
	}
}

static const char *term_name = "xterm";

static void start(term *t, const char *const *args)
{
	const char *build = getenv("BUILD");
	struct winsize ws = {24, 100, 0, 0};
	char exe[512];
	char *argv[16];
	size_t i;

	memset(t, 0, sizeof *t);
	snprintf(exe, sizeof exe, "%s/fixit", build && *build ? build : "build");
	argv[0] = exe;
	for (i = 0; args[i] && i < 14; i++)
		argv[i + 1] = (char *)(uintptr_t)args[i];
	argv[i + 1] = NULL;
	t->pid = forkpty(&t->fd, NULL, NULL, &ws);
	assert_true(t->pid >= 0);
	if (t->pid == 0) {
		setenv("TERM", term_name, 1);
		setenv("INPUTRC", "/dev/null", 1);
		setenv("XDG_STATE_HOME", state_dir, 1);
		setenv("HOME", state_dir, 1);
		setenv("NO_COLOR", "1", 1);
		setenv("LC_ALL", "C", 1);
		unsetenv("FIXIT_RULES");
		execv(exe, argv);
		_exit(127);
	}
}

/* Ends the REPL with `quit` (or lets it end) and checks it exits with status 0. */
static void stop(term *t, int send_quit)
{
	long end = now_ms() + WAIT_MS;
	int status = -1;
	pid_t w;

	if (send_quit)
		type(t, "quit\r");
	while ((w = waitpid(t->pid, &status, WNOHANG)) == 0 && now_ms() < end)
		pump(t, 50);
	if (w == 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, &status, 0);
		print_error("fixit did not exit; output:\n%s\n", t->out ? t->out : "");
	}
	close(t->fd);
	free(t->out);
	assert_true(w == t->pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void rm_history(void)
{
	char path[600];

	snprintf(path, sizeof path, "%s/fixit/history", state_dir);
	unlink(path);
}

/* --- Tests ---------------------------------------------------------------------------------- */

/* Paste a vague message, be asked, ask why, answer, see the remedy change; ask how; change the
 * answer and see the conclusion change back; ask why not. */
static void consultation(void **state)
{
	static const char *const args[] = {"repl", "--rules", KB, NULL};
	term t;

	(void)state;
	start(&t, args);
	expect(&t, "fixit> ");
	type(&t, PASTE_BEGIN "iCloud said:\nThe last backup could not be completed.\n" PASTE_END "\r");
	expect(&t, "<paste 1>: ");
	expect(&t, "restart-device");
	expect(&t, "Question: ");
	expect(&t, "answer> ");
	type(&t, "why\r");
	expect(&t, "vague-failure");
	expect(&t, "answer> ");
	type(&t, "answer storage-full yes\r");
	expect(&t, "+ free-icloud-storage");
	expect(&t, "1. free-icloud-storage");
	expect(&t, "Question: Is the iPhone connected to a Wi-Fi network?");
	type(&t, "yes\r");
	expect(&t, "No more questions.");
	expect(&t, "fixit> ");
	type(&t, "how free-icloud-storage\r");
	expect(&t, "rule storage");
	expect(&t, "your answer to storage-full");
	expect(&t, "fixit> ");
	type(&t, "how restart-device\r");
	expect(&t, "pattern backup-incomplete matched <paste 1>");
	expect(&t, "| The last backup could not be completed.");
	expect(&t, "| ^~~~");
	expect(&t, "fixit> ");
	type(&t, "change storage-full\r");
	expect(&t, "Question: Does Settings");
	type(&t, "no\r");
	expect(&t, "- free-icloud-storage");
	expect(&t, "1. restart-device");
	type(&t, "whynot free-icloud-storage\r");
	expect(&t, "The closest rule to recommending free-icloud-storage is storage");
	expect(&t, "condition 1 fails, at " KB ":43:9");
	expect(&t, "decides it: answer yes.");
	expect(&t, "fixit> ");
	stop(&t, 1);
}

/* Tab completes commands, remedy ids, templates and slots, and question answers. */
static void completion(void **state)
{
	static const char *const args[] = {"repl", "--rules", KB, NULL};
	term t;

	(void)state;
	start(&t, args);
	expect(&t, "fixit> ");
	type(&t, "fac\t");
	expect(&t, "facts ");
	type(&t, "\r");
	expect(&t, "fact");
	expect(&t, "fixit> ");
	type(&t, "tried free-i\t");
	expect(&t, "free-icloud-storage ");
	type(&t, "\025"); /* Ctrl-U: drop the line */
	type(&t, "whynot wifi-p\t");
	expect(&t, "wifi-problem ");
	type(&t, "\025");
	type(&t, "assert (sym\t");
	expect(&t, "symptom ");
	type(&t, "(ki\t");
	expect(&t, "kind ");
	type(&t, "nothing) (text \"x\"))\r");
	expect(&t, "(symptom (kind nothing) (text \"x\"))");
	expect(&t, "fixit> ");
	type(&t, "answer on-\t");
	expect(&t, "on-wifi ");
	type(&t, "y\t");
	expect(&t, "yes ");
	type(&t, "\r");
	expect(&t, "fixit> ");
	stop(&t, 1);
}

/* Lines typed in one run come back with the up arrow in the next. */
static void history(void **state)
{
	static const char *const args[] = {"repl", "--rules", KB, NULL};
	char path[600], buf[256];
	term t;
	FILE *f;
	size_t n;

	(void)state;
	rm_history();
	start(&t, args);
	expect(&t, "fixit> ");
	type(&t, "rules vague\r");
	expect(&t, "vague-failure");
	expect(&t, "fixit> ");
	stop(&t, 1);

	snprintf(path, sizeof path, "%s/fixit/history", state_dir);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "rules vague"));

	start(&t, args);
	expect(&t, "fixit> ");
	type(&t, "\033[A\033[A"); /* up twice: "quit", then "rules vague" */
	expect(&t, "rules vague");
	type(&t, "\r");
	expect(&t, "vague-failure");
	expect(&t, "fixit> ");
	stop(&t, 1);
}

/* Ctrl-C drops the line being typed; a typo gets a suggestion; Ctrl-D leaves. */
static void interrupt_typo_eof(void **state)
{
	static const char *const args[] = {"repl", "--rules", KB, NULL};
	term t;

	(void)state;
	start(&t, args);
	expect(&t, "fixit> ");
	type(&t, "facts trash");
	expect(&t, "facts trash");
	type(&t, "\003");
	expect(&t, "fixit> ");
	type(&t, "fcats\r");
	expect(&t, "unknown command 'fcats'; did you mean 'facts'?");
	expect_not_now(&t, "fact.", 200);
	expect(&t, "fixit> ");
	type(&t, "\004");
	stop(&t, 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* Reads the test kb, with `from` replaced by `to` when given. */
static char *kb_text(const char *from, const char *to)
{
	FILE *f = fopen(KB, "r");
	char *buf = calloc(1, 1 << 16), *hit, *out;
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (!from)
		return buf;
	hit = strstr(buf, from);
	assert_non_null(hit);
	out = calloc(1, n + strlen(to) + 1);
	assert_non_null(out);
	memcpy(out, buf, (size_t)(hit - buf));
	strcat(out, to);
	strcat(out, hit + strlen(from));
	free(buf);
	return out;
}

/* reload re-reads an edited rule file, replays the paste and shows what changed; a broken
 * file keeps the knowledge base loaded before. */
static void reload(void **state)
{
	char path[600];
	const char *args[] = {"repl", "--rules", path, NULL};
	char *text;
	term t;

	(void)state;
	snprintf(path, sizeof path, "%s/kb.yaml", state_dir);
	text = kb_text(NULL, NULL);
	write_file(path, text);
	free(text);
	start(&t, args);
	expect(&t, "fixit> ");
	type(&t, "paste The last backup could not be completed.\r");
	expect(&t, "1. restart-device: Restart the iPhone (certainty 0.20, cost 1)");
	expect(&t, "answer> ");
	text = kb_text("certainty: 0.2}", "certainty: 0.6}");
	write_file(path, text);
	free(text);
	type(&t, "reload\r");
	expect(&t, "Reloaded: 3 rules; replaying 1 input.");
	expect(&t, "~ restart-device: #1 -> #1, score 0.200 -> 0.600");
	expect(&t, "answer> ");
	write_file(path, "rules: [\n");
	type(&t, "reload\r");
	expect(&t, "keeping the knowledge base loaded before");
	type(&t, "diagnosis\r");
	expect(&t, "1. restart-device: Restart the iPhone (certainty 0.60, cost 1)");
	stop(&t, 1);
	unlink(path);
}

/* A terminal without bracketed paste (TERM=dumb) delivers a paste as lines arriving together:
 * they are still one message. */
static void paste_without_brackets(void **state)
{
	static const char *const args[] = {"repl", "--rules", KB, NULL};
	term t;

	(void)state;
	term_name = "dumb";
	start(&t, args);
	term_name = "xterm";
	expect(&t, "fixit> ");
	type(&t, "iCloud said this morning:\rThe last backup could not be completed.\rand nothing else\r");
	expect(&t, "<paste 1>: 1 new fact from the text.");
	expect(&t, "answer> ");
	expect_not_now(&t, "<paste 2>", 300);
	type(&t, "how f-1\r");
	expect(&t, "| The last backup could not be completed.");
	stop(&t, 1);
}

/* `fixit diagnose` reading a terminal answers each paste when the input waits: a paste with
 * nothing in it is reported at once, not held to be joined with the next one. */
static void diagnose_on_a_terminal(void **state)
{
	static const char *const args[] = {"diagnose", "--rules", KB, NULL};
	term t;

	(void)state;
	start(&t, args);
	type(&t, "hello there\r\r");
	expect(&t, "case 1 (<stdin>:1)");
	expect(&t, "no diagnosis");
	type(&t, "and again\r\r");
	expect(&t, "case 2 (<stdin>:3)");
	type(&t, "The last backup could not be completed.\r\r");
	expect(&t, "case 3 (<stdin>:5)");
	expect(&t, "remedy 1");
	type(&t, "\x04");
	stop(&t, 0);
}

/* `fixit` alone on a terminal starts the REPL with the built-in knowledge base. */
static void bare_fixit(void **state)
{
	static const char *const args[] = {NULL};
	term t;

	(void)state;
	start(&t, args);
	expect(&t, "paste an error message");
	expect(&t, "fixit> ");
	stop(&t, 1);
}

static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	snprintf(state_dir, sizeof state_dir, "%s/fixit-repl-pty-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	return mkdtemp(state_dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char path[600];

	(void)state;
	rm_history();
	snprintf(path, sizeof path, "%s/fixit", state_dir);
	rmdir(path);
	return rmdir(state_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(consultation),
		cmocka_unit_test(completion),
		cmocka_unit_test(history),
		cmocka_unit_test(interrupt_typo_eof),
		cmocka_unit_test(reload),
		cmocka_unit_test(paste_without_brackets),
		cmocka_unit_test(bare_fixit),
		cmocka_unit_test(diagnose_on_a_terminal),
	};

	signal(SIGPIPE, SIG_IGN);
	/* REPL_PTY_TEST=NAME runs one test (while debugging). */
	if (getenv("REPL_PTY_TEST"))
		cmocka_set_test_filter(getenv("REPL_PTY_TEST"));
	return cmocka_run_group_tests_name("repl_pty", tests, setup, teardown);
}
