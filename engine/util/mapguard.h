/* mapguard.h — file mappings that outlive their file shrinking.
 *
 * A page of a file mapping past the file's current end raises SIGBUS when
 * touched: a file truncated by another process while mapped would end the
 * whole engine. A guarded region turns that into a flag instead. The
 * process-wide SIGBUS handler, when the faulting address lies in a
 * registered region, maps anonymous zero pages over the rest of the
 * region (MAP_FIXED, read-only) and marks it lost; the touch then reads 0
 * and the program goes on. The region's owner asks mapguard_lost() once
 * it is done with the bytes and fails its work when they were lost: what
 * was computed from zeros is never published.
 *
 * Any other SIGBUS goes to the handler that was there before (a function,
 * or the default action: the process dies by SIGBUS, with a core as
 * before). A handler installed after mapguard_add() replaces the guard;
 * the next mapguard_add() puts it back in front and chains to that one.
 *
 * The handler calls only mmap(2), a system call with no lock (Linux), and
 * reads the slot table with atomics: nothing it does can deadlock with the
 * thread it interrupted.
 *
 * Threading: thread-safe. Any thread may touch a guarded region; add and
 * remove are serialised by a lock, never taken by the handler. */
#ifndef SLUICE_MAPGUARD_H
#define SLUICE_MAPGUARD_H

#include <stddef.h>

/* Regions guarded at once: a job maps at most one input, and the worker
 * pool runs fewer jobs than this; past it mapguard_add() says no. */
#define MAPGUARD_SLOTS 64

/* Guards [addr, addr + len) (addr page-aligned, as mmap() gives it; the
 * last page is covered whole). Returns a slot >= 0, or -1 when every slot
 * is taken or the handler could not be installed: map nothing then (read
 * the file instead). */
int mapguard_add(const void *addr, size_t len);
/* 1 when a page of the slot's region was lost (read as zeros since). */
int mapguard_lost(int slot);
/* Forgets the slot's region; call it before munmap(). -1 is ignored. */
void mapguard_remove(int slot);

#endif
