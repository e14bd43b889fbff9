// C shims for terminal ioctls, raw-mode queries and pseudo-terminals
// (variadic ioctl and fork are not callable from Swift).
#pragma once
#include <sys/types.h>

typedef struct {
    int rows;
    int cols;
    int xpixel;
    int ypixel;
} cterminal_winsize;

/// TIOCGWINSZ on fd. Returns 0 on success, -1 on error.
int cterminal_get_winsize(int fd, cterminal_winsize *out);
/// TIOCSWINSZ on fd (used on a pty master to simulate a resize). Returns 0 on success.
int cterminal_set_winsize(int fd, int rows, int cols, int xpixel, int ypixel);

/// Puts the tty `in_fd` in raw mode, writes `query` to `out_fd`, and reads the reply until the byte
/// `terminator` arrives or `timeout_ms` passes without it. Restores the tty mode. Returns the number of bytes
/// read (0 on timeout with nothing read), or -1 if in_fd is not a tty.
int cterminal_query(int in_fd, int out_fd, const char *query, char terminator,
                    char *reply, int capacity, int timeout_ms);

/// Forks `path` with `argv`/`envp` on a new pseudo-terminal of the given size (the child's stdin/stdout/stderr
/// and controlling tty). Returns the child's pid and stores the master fd in *master; -1 on failure.
pid_t cterminal_spawn_pty(const char *path, char *const argv[], char *const envp[],
                          int rows, int cols, int xpixel, int ypixel, int *master);

/// Bytes written to the pty `master` that the child has not read yet (the slave's input queue); -1 on error.
int cterminal_unread_input(int master);

/// Non-blocking read from fd that waits at most timeout_ms for data. Returns bytes read, 0 on timeout, -1 on EOF/error.
int cterminal_read_timeout(int fd, char *buffer, int capacity, int timeout_ms);

/// Returns 1 if the process `pid` has exited (reaping it), storing its wait status; 0 if still running.
int cterminal_try_wait(pid_t pid, int *status);
/// Decodes a wait status: exit code, or 128+signal if killed by a signal.
int cterminal_exit_code(int status);

/// Display width of a code point in columns (wcwidth; -1 for non-printables).
int cterminal_wcwidth(unsigned int codepoint);
