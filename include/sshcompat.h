/* sshcompat.h - the OpenSSH version in a server's banner (ssh_compat.c). */
#ifndef DM_SSHCOMPAT_H
#define DM_SSHCOMPAT_H

/* SSH_VERSION_INT(major, minor, 0) of an "SSH-2.0-OpenSSH_M.N..." banner,
 * or 0 when it is not OpenSSH's. */
int openssh_version_of(const char *banner);

#endif
