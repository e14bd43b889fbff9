// Pseudo-terminal helpers for the TUI tests: spawn the real binary on a pty, feed it, read it, reap it.
// (variadic ioctl and fork are not callable from Swift.) Only the tests link this target.
#define _GNU_SOURCE
#include "CPseudoTerminal.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

int cterminal_set_winsize(int fd, int rows, int cols, int xpixel, int ypixel) {
    struct winsize ws = { (unsigned short)rows, (unsigned short)cols, (unsigned short)xpixel, (unsigned short)ypixel };
    return ioctl(fd, TIOCSWINSZ, &ws);
}

pid_t cterminal_spawn_pty(const char *path, char *const argv[], char *const envp[],
                          int rows, int cols, int xpixel, int ypixel, int *master) {
    struct winsize ws = { (unsigned short)rows, (unsigned short)cols, (unsigned short)xpixel, (unsigned short)ypixel };
    int fd = -1;
    pid_t pid = forkpty(&fd, NULL, NULL, &ws);
    if (pid < 0) return -1;
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        execve(path, argv, envp);
        _exit(127);
    }
    *master = fd;
    return pid;
}

int cterminal_unread_input(int master) {
    const char *name = ptsname(master);
    if (!name) return -1;
    int slave = open(name, O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (slave < 0) return -1;
    int n = 0;
    int r = ioctl(slave, FIONREAD, &n);
    close(slave);
    return r < 0 ? -1 : n;
}

int cterminal_read_timeout(int fd, char *buffer, int capacity, int timeout_ms) {
    struct pollfd p = { fd, POLLIN, 0 };
    int r = poll(&p, 1, timeout_ms);
    if (r == 0) return 0;
    if (r < 0) return errno == EINTR ? 0 : -1;
    ssize_t n = read(fd, buffer, (size_t)capacity);
    if (n <= 0) return -1;
    return (int)n;
}

int cterminal_try_wait(pid_t pid, int *status) {
    pid_t r = waitpid(pid, status, WNOHANG);
    return r == pid ? 1 : 0;
}

int cterminal_exit_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

