// A SIGBUS handler for read-only file mappings (see mapguard.h). Everything the handler touches is a lock-free
// atomic or a system call (mmap, sigaction), so it is async-signal-safe.
#include "mapguard.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SLOTS 64

static atomic_int used[SLOTS];
static atomic_uintptr_t starts[SLOTS];  // 0: slot not guarding
static atomic_uintptr_t ends[SLOTS];
static atomic_uintptr_t faults[SLOTS];  // address of the first replaced page, UINTPTR_MAX when none
static struct sigaction previous;
static uintptr_t page_mask;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int installed;

static void on_sigbus(int sig, siginfo_t *info, void *context) {
    uintptr_t address = (uintptr_t)info->si_addr;
    for (int i = 0; i < SLOTS; i++) {
        uintptr_t start = atomic_load(&starts[i]);
        uintptr_t end = atomic_load(&ends[i]);
        if (start == 0 || address < start || address >= end) continue;
        uintptr_t page = address & ~page_mask;
        // Zeros from the page on: the faulting read (and any later one) then reads them.
        if (mmap((void *)page, end - page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
            break;
        uintptr_t seen = atomic_load(&faults[i]);
        while (page < seen && !atomic_compare_exchange_weak(&faults[i], &seen, page)) {
        }
        return;
    }
    // Not a guarded mapping: what was there before.
    if (previous.sa_flags & SA_SIGINFO) {
        previous.sa_sigaction(sig, info, context);
        return;
    }
    if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(sig);
        return;
    }
    // The default action: restored, and the faulting access runs again and raises it.
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGBUS, &dfl, NULL);
}

static void install(void) {
    page_mask = (uintptr_t)sysconf(_SC_PAGESIZE) - 1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    installed = sigaction(SIGBUS, &action, &previous) == 0;
}

int jwtsift_mapguard_add(const void *start, size_t length) {
    pthread_once(&once, install);
    if (!installed || start == NULL || length == 0) return -1;
    for (int i = 0; i < SLOTS; i++) {
        int free = 0;
        if (!atomic_compare_exchange_strong(&used[i], &free, 1)) continue;
        atomic_store(&faults[i], UINTPTR_MAX);
        atomic_store(&ends[i], (uintptr_t)start + length);
        atomic_store(&starts[i], (uintptr_t)start);
        return i;
    }
    return -1;
}

void jwtsift_mapguard_remove(int slot) {
    if (slot < 0 || slot >= SLOTS) return;
    atomic_store(&starts[slot], 0);
    atomic_store(&ends[slot], 0);
    atomic_store(&used[slot], 0);
}

long jwtsift_mapguard_fault(int slot) {
    if (slot < 0 || slot >= SLOTS) return -1;
    uintptr_t page = atomic_load(&faults[slot]);
    uintptr_t start = atomic_load(&starts[slot]);
    if (page == UINTPTR_MAX || start == 0) return -1;
    return (long)(page - start);
}
