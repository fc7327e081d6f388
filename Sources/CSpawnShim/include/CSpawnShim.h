#ifndef GEOREP_CSPAWN_SHIM_H
#define GEOREP_CSPAWN_SHIM_H

#include <spawn.h>

/// glibc's posix_spawn_file_actions_addclosefrom_np, which Swift does not see without
/// _GNU_SOURCE: closes every descriptor from `from` up in the child, so none of the parent's
/// sockets leak into gluster or ssh.
int georep_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);

#endif
