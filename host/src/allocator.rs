//! Settings and upkeep of glibc's allocator, which decide how much of the memory a run
//! freed the server gives back. Other C libraries need none of this.

/// Caps glibc's malloc at two arenas. By default it gives each busy thread an arena of its
/// own, up to eight per core, and keeps what they freed. A run's reading and writing
/// threads allocate and free every chunk, and the server's resident memory grew with the
/// arenas of runs that had ended. Importing 1M products rows on SQLite and then updating
/// them in one server peaked at 136 MB with glibc's default and at 97 MB with two arenas,
/// in about the same time. Call it first thing in `main`.
#[cfg(target_env = "gnu")]
#[allow(unsafe_code)]
pub fn limit_arenas() {
    // SAFETY: mallopt only changes a setting of glibc's allocator; it is called before
    // any other thread exists, and it has no memory-safety preconditions.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(target_env = "gnu"))]
pub fn limit_arenas() {}

/// Gives the pages that are free in every arena back to the system. glibc returns only
/// the free memory at the top of an arena by itself, so a run's page cache and chunks,
/// freed in the middle, stayed resident. The next run, on another thread and maybe
/// another arena, added its own, and the server's peak grew from one run to the next. Call
/// it when a run ends; it takes about a millisecond.
#[cfg(target_env = "gnu")]
#[allow(unsafe_code)]
pub fn return_free_memory() {
    // SAFETY: malloc_trim only releases free pages, under the allocator's own locks; it
    // has no memory-safety preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(target_env = "gnu"))]
pub fn return_free_memory() {}
