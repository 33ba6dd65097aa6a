#ifndef CSQLITE_SHIM_H
#define CSQLITE_SHIM_H
#include <sqlite3.h>
/// SQLITE_TRANSIENT is a cast macro that Swift does not import.
static inline sqlite3_destructor_type CSQLite_transient(void) { return SQLITE_TRANSIENT; }
/// sqlite3_config is variadic, which Swift cannot call: turns off SQLite's memory statistics (a global mutex
/// taken on every allocation). Must run before the first connection opens; returns SQLITE_MISUSE after.
static inline int CSQLite_disableMemoryStatistics(void) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }
#endif
