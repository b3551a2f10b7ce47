/* A hostile CGI for the e2e tests: tries to get back to root or reach another tenant,
 * and reports each attempt as "name=<return> errno=<errno>" so the test can assert the
 * failure. Parameters come from QUERY_STRING: victim=PID (ptrace), master=PID (kill),
 * read=PATH (open). Lists its own fds first, before it opens anything. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <unistd.h>

static char query[4096];

static const char *param(const char *name) {
  static char value[4096];
  size_t n = strlen(name);
  for (char *p = query; p && *p;) {
    char *amp = strchr(p, '&');
    size_t len = amp ? (size_t)(amp - p) : strlen(p);
    if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
      snprintf(value, sizeof value, "%.*s", (int)(len - n - 1), p + n + 1);
      return value;
    }
    p = amp ? amp + 1 : NULL;
  }
  return NULL;
}

int main(void) {
  const char *q = getenv("QUERY_STRING");
  snprintf(query, sizeof query, "%s", q ? q : "");

  /* The fd list, without the directory stream's own fd. */
  char fdlist[1024] = "";
  DIR *d = opendir("/proc/self/fd");
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d)) continue;
      strncat(fdlist, e->d_name, sizeof fdlist - strlen(fdlist) - 2);
      strcat(fdlist, ",");
    }
    closedir(d);
  }
  printf("Content-Type: text/plain\n\n");
  printf("fds=%s\n", fdlist);

  errno = 0;
  int r = setresuid(0, 0, 0);
  printf("setresuid=%d errno=%d\n", r, r ? errno : 0);
  errno = 0;
  r = setuid(0);
  printf("setuid=%d errno=%d\n", r, r ? errno : 0);
  errno = 0;
  r = seteuid(0);
  printf("seteuid=%d errno=%d\n", r, r ? errno : 0);
  errno = 0;
  r = setresgid(0, 0, 0);
  printf("setresgid=%d errno=%d\n", r, r ? errno : 0);
  gid_t root_group = 0;
  errno = 0;
  r = setgroups(1, &root_group);
  printf("setgroups=%d errno=%d\n", r, r ? errno : 0);
  printf("ids=%d,%d,%d\n", (int)getuid(), (int)geteuid(), (int)getegid());

  const char *victim = param("victim");
  if (victim) {
    errno = 0;
    long pr = ptrace(PTRACE_ATTACH, (pid_t)atoi(victim), 0, 0);
    printf("ptrace=%ld errno=%d\n", pr, pr ? errno : 0);
    if (pr == 0) ptrace(PTRACE_DETACH, (pid_t)atoi(victim), 0, 0);
    errno = 0;
    r = kill((pid_t)atoi(victim), SIGKILL);
    printf("killvictim=%d errno=%d\n", r, r ? errno : 0);
  }
  const char *master = param("master");
  if (master) {
    errno = 0;
    r = kill((pid_t)atoi(master), SIGTERM);
    printf("kill=%d errno=%d\n", r, r ? errno : 0);
  }
  const char *path = param("read");
  if (path) {
    errno = 0;
    int fd = open(path, O_RDONLY);
    printf("open=%d errno=%d\n", fd < 0 ? -1 : 0, fd < 0 ? errno : 0);
    if (fd >= 0) {
      char buf[256];
      ssize_t n = read(fd, buf, sizeof buf - 1);
      buf[n > 0 ? n : 0] = 0;
      printf("content=%s\n", buf);
    }
  }
  return 0;
}
