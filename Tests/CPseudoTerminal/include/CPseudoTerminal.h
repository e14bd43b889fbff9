// Pseudo-terminal helpers for the TUI tests (see pty.c).
#pragma once
#include <sys/types.h>

/// TIOCSWINSZ on fd (used on a pty master to simulate a resize). Returns 0 on success.
int cterminal_set_winsize(int fd, int rows, int cols, int xpixel, int ypixel);

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

