#ifndef JWTSIFT_MAPGUARD_H
#define JWTSIFT_MAPGUARD_H

#include <stddef.h>
#include <stdint.h>

/// Guards read-only file mappings against SIGBUS: a page of a guarded mapping that can no longer be read (the file
/// was truncated under the mapping, or reading the page failed) is replaced, from that page to the mapping's end,
/// by zero-filled anonymous memory, and the page's offset is recorded for the owner to see
/// (jwtsift_mapguard_fault). A SIGBUS anywhere else goes to the disposition that was in place before.
///
/// Returns a slot (>= 0) guarding [start, start + length), or -1 when the handler could not be installed or every
/// slot is taken (then the file must not be mapped).
int jwtsift_mapguard_add(const void *start, size_t length);

/// Stops guarding a slot (before its mapping is unmapped).
void jwtsift_mapguard_remove(int slot);

/// Offset, from the mapping's start, of the first page replaced after a SIGBUS; -1 when none was.
long jwtsift_mapguard_fault(int slot);

#endif
